import type { ChatModel, Telemetry, UsageSink } from '../core/types.js';
import type { ConfigIssue } from '../errors/ConfigError.js';
import type { EngineClients } from '../llm/engineModel.js';

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /**
   * A config folder (served as one config, named after the folder), or a folder of config folders (each
   * sub-folder holding a config.yml is a config, named after it), as NeMo's server reads `--config`. Entries whose
   * names start with `.` or `_`, and node_modules, are not configs.
   */
  readonly configDir: string;
  /** The config used when a request names none. @default the only config, when there is just one */
  readonly defaultConfigId?: string;
  /** When set, every /v1 request must carry `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /**
   * Largest request body accepted, in bytes.
   * @default 1 MiB
   */
  readonly bodyLimit?: number;
  /** Models by type for every config (overriding the configs' entries), e.g. for tests. */
  readonly models?: Readonly<Record<string, ChatModel>>;
  /** SDK clients for the configs' engines (otherwise made from the environment). */
  readonly clients?: EngineClients;
  /** Also record every LLM call here: a UsageTracker or any object with `next(call)`. */
  readonly usage?: UsageSink;
  /** Where config warnings go. @default console.warn */
  readonly onWarning?: (warning: ConfigIssue) => void;
  /**
   * Where unexpected errors go: a handler that threw, a failure of an answer that is neither a rail violation nor
   * a provider's error. The client gets a 500 (or a `server_error` frame) that tells it nothing; this gets the
   * error. Rail violations, provider failures and bad requests are answers, not errors, and do not come here
   * (with `hideErrorDetail`, failed rails and provider failures do: their detail is withheld from the client). What
   * it throws is ignored, so the client is still answered.
   * @default console.error
   */
  readonly onError?: (error: unknown, context: ErrorContext) => void;
  /**
   * Keep what failed to the server's log: a rail that failed is answered `Internal error in <rail> rail: the rail
   * failed` (NeMo's payload otherwise unchanged), a provider's failure by its type and status (`The model provider
   * failed: rate_limit_error (HTTP 429)`, `The model provider timed out.`), without the errors' own text, which may
   * say anything about the server (a judge's provider URL, a masked API key, an upstream's message). Those errors
   * then go to `onError` too, with the request's id, so the detail is not lost. The chat page's rail events never carry it either way.
   * @default false (NeMo's server sends the detail)
   */
  readonly hideErrorDetail?: boolean;
  /**
   * Origins a browser app may call the server from (`https://app.example`, or `*` for any), for preflights, JSON
   * and streaming answers alike. None by default: a browser on another origin cannot call the server.
   * @default []
   */
  readonly corsOrigins?: readonly string[];
  /**
   * Bytes of frames a streaming client may leave unread; past it the answer is stopped (the model request and the
   * rails aborted) and the connection dropped. Per request, so memory stays bounded whatever clients do.
   * @default 1 MiB
   */
  readonly maxBufferedBytes?: number;
  /**
   * Milliseconds a streaming client may leave frames unread before its answer is stopped the same way.
   * @default 30000
   */
  readonly stallTimeoutMs?: number;
  /**
   * Report each chat completion as a request (its config id, LLM calls, rail checks, outcome): `openTelemetry()` from
   * `rxguardrails/otel`, or any {@link Telemetry}. A hook that throws goes to `onError` once and never breaks an answer.
   * @default none
   */
  readonly telemetry?: Telemetry;
  /**
   * Serve the chat page at `GET /`: pick a config, chat, and watch the rails check the answer as it streams. It calls
   * this server's /v1 API (asking for the API key when there is one); `false` leaves `/` a 404.
   * @default true
   */
  readonly chatUi?: boolean;
}

/** Which request an unexpected error belongs to. */
export interface ErrorContext {
  /** The completion id the client was given (`chatcmpl-...`), when the error belongs to an answer. */
  readonly requestId?: string;
  /** The config that was answering. */
  readonly configId?: string;
}
