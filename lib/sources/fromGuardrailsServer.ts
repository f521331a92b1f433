import type { Observable } from 'rxjs';
import type { ChatMessage, RailVerdict, SourceOptions } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import {
  assertHttpUrl,
  assertKnownKeys,
  assertMessages,
  assertOneOf,
  assertUsageSink,
  describeValue,
} from '../internal/validateOptions.js';
import { providerStream } from './providerStream.js';
import { assertSourceOptions } from './sourceArguments.js';
import { sseData, SseOverflow } from './sseData.js';
import { upstreamBounds } from './upstreamTimeout.js';

/** Options of {@link fromGuardrailsServer}. */
export interface FromGuardrailsServerOptions extends SourceOptions {
  /**
   * The server's API address, as the `openai` client's `baseURL`: `http://127.0.0.1:8000/v1`. The request goes to
   * `<baseURL>/chat/completions`.
   */
  readonly baseURL: string;
  /** The conversation; the server's input rails check the last user message, its output rails the answer. */
  readonly messages: readonly ChatMessage[];
  /** The config that answers (NeMo's `config_id`). @default the server's default config */
  readonly configId?: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`, for a server started with an API key. In a browser, anything the page
   * holds its user can read: put a key there only for a server whose users may have it.
   */
  readonly apiKey?: string;
  /**
   * The request's `model` (the server answers with its config's own model; the value is echoed in every frame).
   * @default the configId, else 'default'
   */
  readonly model?: string;
  /**
   * More fields of the request body, passed to the config's main model: `temperature`, `max_tokens`, `top_p`,
   * `stop`, `seed`, ... (not `messages`, `model`, `stream`, `stream_options`, `config_id`: set those by their options).
   * @default {}
   */
  readonly params?: Readonly<Record<string, unknown>>;
  /**
   * How an input-rail block reaches you: `'refuse'` streams the config's refusal as the answer's text (NeMo's way, the
   * server's default); `'error'` errors with {@link RailViolationError}, as an output-rail block does.
   * @default 'refuse'
   */
  readonly onInputViolation?: 'refuse' | 'error';
  /** The fetch to use (a proxy's, a test's). @default globalThis.fetch, looked up per request */
  readonly fetch?: typeof fetch;
}

const OPTION_KEYS = ['baseURL', 'messages', 'configId', 'apiKey', 'model', 'params', 'onInputViolation', 'fetch', 'usage', 'task', 'signal', 'timeout', 'demand'];
/** Fields of the body this function writes itself. */
const RESERVED_PARAMS = ['messages', 'model', 'stream', 'stream_options', 'config_id'];
/** The provider name in errors and usage records. */
const PROVIDER = 'guardrails-server';
/** The server refuses longer ids (it echoes them); refusing here says so before a request is made. */
const MAX_ID = 256;

/** One `data:` payload of the server's stream, as far as this function reads it. */
interface Frame {
  readonly choices?: readonly { readonly index?: number; readonly delta?: { readonly content?: unknown }; readonly finish_reason?: unknown }[];
  readonly usage?: { readonly prompt_tokens?: unknown; readonly completion_tokens?: unknown; readonly total_tokens?: unknown } | null;
  readonly error?: { readonly message?: unknown; readonly type?: unknown; readonly param?: unknown; readonly code?: unknown };
}

/**
 * Streams the guarded answer of an rxguardrails (or NeMo Guardrails) server as `Observable<string>`, over `fetch` and
 * Server-Sent Events: the browser client of `rxguardrails server`.
 *
 * Each subscription is one `POST <baseURL>/chat/completions` with `stream: true`; each `choices[0].delta.content`
 * is emitted as it arrives. The guarding happens on the server; what arrives has passed its rails.
 *
 * ```
 * request:  ^-------------------------
 * frames:   -r--H--e--l--l--o--f--D      r role frame, f finish frame, D data: [DONE]
 * result:   ----H--e--l--l--o-----|
 * blocked:  -r--H--e--E                  E the violation frame
 * result:   ----H--e--#                  # RailViolationError
 * ```
 *
 * - Completes on `data: [DONE]`, or when the stream ends after a frame with a `finish_reason`. A stream that ends
 *   with neither was cut short: a {@link ProviderError} of type `connection_error`, code `truncated`.
 * - A violation frame (NeMo's `{"error": {"type": "guardrails_violation", "param": <rail>, ...}}`, or its
 *   `internal_error` for a rail that failed) errors with {@link RailViolationError}: `info.rail` is the rail,
 *   `info.verdict` a verdict of kind `'violation'` (or `'internal_error'`) whose `details.payload` is the payload as
 *   sent, and `toJSON()` gives it back; `info.batchIndex` is 0 (the client does not see the server's windows).
 *   The text released before it stays emitted: the server released only checked text.
 * - Errors with {@link ProviderError} for an HTTP error status (401 bad key, 404 unknown config, 413, 415, 422,
 *   429 with `retryAfter` when the server exposes `retry-after`, 503 config unavailable, 5xx), with `status` and
 *   the server's own message; an error frame mid-stream (the model provider failed, a timeout, a shutdown) with its
 *   `type` and `code`; a server that cannot be reached (in a browser also a request CORS did not allow) or a
 *   connection that dropped (`connection_error`); a frame that is not JSON (`invalid_response`, code
 *   `malformed_frame`); a reply that is not `text/event-stream`.
 * - With `timeout`, a server that keeps the call waiting over its bound is a retryable `ProviderError` of type
 *   `timeout`, and the request is aborted.
 * - Unsubscribing aborts the HTTP request at once (an `AbortController` per subscription), and the server then
 *   cancels the answer: its model request and its rails. `signal` aborts it from outside; the stream then errors
 *   with the signal's reason.
 * - `usage`: the call is recorded there exactly once, however the stream ends (complete, violation, error,
 *   unsubscription), as one call of task `task` (default 'general'), provider `guardrails-server`. The request asks for
 *   the server's usage frame (`stream_options.include_usage`) only when `usage` is given; that frame counts every LLM
 *   call the server made for the answer, its judges included, and the record then has `estimated: false`. A stream
 *   that ends without it (blocked, failed, cancelled, or an older server) is recorded with estimated counts
 *   (`estimated: true`), as the other sources do.
 *
 * ## Example
 * ```ts
 * import { fromGuardrailsServer, RailViolationError } from 'rxguardrails';
 *
 * fromGuardrailsServer({ baseURL: 'http://127.0.0.1:8000/v1', configId: 'demo', messages: [{ role: 'user', content: 'Hi!' }] }).subscribe({
 *   next: (token) => console.log(token),
 *   error: (error) => console.log(RailViolationError.isInstance(error) ? `blocked by ${error.info.rail}` : error.message),
 * });
 * ```
 *
 * @param options `baseURL` and `messages`; optionally `configId`, `apiKey`, `model` (default the configId, else
 *   'default'), `params` (default {}), `onInputViolation` (default 'refuse'), `fetch` (default the global one), and
 *   the sources' `usage`, `task` (default 'general'), `signal`, `timeout` (default none), `demand`.
 * @throws InvalidOptionError for a bad option, when called (not as an error notification).
 */
export function fromGuardrailsServer(options: FromGuardrailsServerOptions): Observable<string> {
  const owner = 'fromGuardrailsServer';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', options, `${owner}: options must be an object with baseURL and messages, got ${describeValue(options)}`);
  }
  assertKnownKeys(owner, options, OPTION_KEYS);
  const { baseURL, messages, configId, apiKey, params = {}, onInputViolation, fetch: fetchOption, usage, signal } = options;
  assertHttpUrl(owner, 'baseURL', baseURL);
  assertMessages(owner, 'messages', messages);
  if (messages.length === 0) throw new InvalidOptionError('messages', messages, `${owner}: messages must hold at least one message`);
  for (const [name, value] of [['configId', configId], ['apiKey', apiKey], ['model', options.model]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '' || (name !== 'apiKey' && value.length > MAX_ID))) {
      const what = name === 'apiKey' ? 'a non-empty string' : `a non-empty string of at most ${MAX_ID} characters`;
      throw new InvalidOptionError(name, value, `${owner}: ${name} must be ${what} when given, got ${describeValue(value)}`);
    }
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new InvalidOptionError('params', params, `${owner}: params must be an object of request fields (temperature, max_tokens, ...), got ${describeValue(params)}`);
  }
  const reserved = RESERVED_PARAMS.find((key) => key in params);
  if (reserved !== undefined) {
    const instead = { messages: 'the messages option', model: 'the model option', config_id: 'the configId option' }[reserved] ?? 'fromGuardrailsServer itself';
    throw new InvalidOptionError(`params.${reserved}`, params[reserved], `${owner}: params.${reserved} is set by ${instead}; leave it out of params`);
  }
  if (onInputViolation !== undefined) assertOneOf(owner, 'onInputViolation', onInputViolation, ['refuse', 'error'] as const);
  if (fetchOption !== undefined && typeof fetchOption !== 'function') {
    throw new InvalidOptionError('fetch', fetchOption, `${owner}: fetch must be a fetch function, got ${describeValue(fetchOption)}`);
  }
  if (usage !== undefined) assertUsageSink(owner, 'usage', usage);
  if (options.task !== undefined && (typeof options.task !== 'string' || options.task === '')) {
    throw new InvalidOptionError('task', options.task, `${owner}: task must be a non-empty string, got ${describeValue(options.task)}`);
  }
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof (signal as Partial<AbortSignal>).addEventListener !== 'function')) {
    throw new InvalidOptionError('signal', signal, `${owner}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  const { baseURL: _baseURL, messages: _messages, configId: _configId, apiKey: _apiKey, model: _model, params: _params, onInputViolation: _onInput, fetch: _fetch, ...sourceOptions } =
    options;
  assertSourceOptions(owner, sourceOptions);
  const bounds = upstreamBounds(owner, options.timeout);

  const model = options.model ?? configId ?? 'default';
  const url = `${baseURL.replace(/\/+$/, '')}/chat/completions`;
  const body = JSON.stringify({
    ...params,
    model,
    messages: messages.map(({ role, content }) => ({ role, content })),
    stream: true,
    // The usage frame only when someone reads it: the server then tracks the answer's calls for it.
    ...(usage ? { stream_options: { include_usage: true } } : {}),
    ...(configId === undefined ? {} : { config_id: configId }),
    ...(onInputViolation === undefined ? {} : { guardrails: { ...guardrailsParam(params), input_violation: onInputViolation } }),
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
  };

  return providerStream<Frame>({
    provider: PROVIDER,
    model,
    messages,
    options: sourceOptions,
    bounds,
    open: async (abort) => {
      let response: Response;
      try {
        response = await (fetchOption ?? globalThis.fetch)(url, { method: 'POST', headers, body, signal: abort });
      } catch (error) {
        if (abort.aborted) throw error;
        // Browsers say no more than "Failed to fetch" for an unreachable server and for a request CORS refused alike.
        throw new ProviderError({ provider: PROVIDER, type: 'connection_error', during: 'request', detail: `cannot reach the guardrails server at ${url} (${messageOf(error)})`, cause: error });
      }
      if (!response.ok) throw await httpError(response);
      const type = response.headers.get('content-type') ?? '';
      if (!/^text\/event-stream\b/i.test(type) || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        throw new ProviderError({
          provider: PROVIDER,
          status: response.status,
          type: 'invalid_response',
          during: 'request',
          detail: `expected a text/event-stream answer, got ${type === '' ? 'no content-type' : type.slice(0, 100)}`,
        });
      }
      return frames(response.body);
    },
    read: (frame, call) => {
      if (frame.error !== undefined) throw frameError(frame.error, call.streamed ? 'stream' : 'request');
      const { usage: reported } = frame;
      if (reported) {
        call.report({
          promptTokens: numberOf(reported.prompt_tokens),
          completionTokens: numberOf(reported.completion_tokens),
          totalTokens: numberOf(reported.total_tokens),
        });
      }
      const choice = frame.choices?.find((candidate) => (candidate.index ?? 0) === 0);
      const content = choice?.delta?.content;
      return typeof content === 'string' && content !== '' ? content : undefined;
    },
  });
}

/** A `guardrails` object the caller put in params, kept (with input_violation set over it). */
function guardrailsParam(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { guardrails } = params;
  return guardrails !== null && typeof guardrails === 'object' && !Array.isArray(guardrails) ? (guardrails as Record<string, unknown>) : {};
}

/**
 * The frames of the body, parsed, up to `data: [DONE]` (the rest is not read, and the response is cancelled).
 * A body that ends before [DONE] is complete only if a frame gave a `finish_reason`: otherwise it was cut short.
 */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame, void, undefined> {
  let finished = false;
  let streamed = false;
  const during = () => (streamed ? 'stream' : 'request');
  try {
    for await (const data of sseData(body)) {
      if (data === '[DONE]') return;
      let frame: unknown;
      try {
        frame = JSON.parse(data);
      } catch (error) {
        throw new ProviderError({
          provider: PROVIDER,
          type: 'invalid_response',
          code: 'malformed_frame',
          during: during(),
          detail: `the server sent a frame that is not JSON: ${JSON.stringify(data.length > 100 ? `${data.slice(0, 100)}...` : data)}`,
          cause: error,
        });
      }
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
        throw new ProviderError({ provider: PROVIDER, type: 'invalid_response', code: 'malformed_frame', during: during(), detail: `the server sent a frame that is not a JSON object: ${data.slice(0, 100)}` });
      }
      const { choices } = frame as Frame;
      if (Array.isArray(choices) && choices.some((choice) => typeof choice?.finish_reason === 'string')) finished = true;
      if (Array.isArray(choices) && choices.some((choice) => typeof choice?.delta?.content === 'string' && choice.delta.content !== '')) streamed = true;
      yield frame as Frame;
    }
  } catch (error) {
    if (error instanceof SseOverflow) {
      throw new ProviderError({ provider: PROVIDER, type: 'invalid_response', code: 'event_too_large', during: during(), detail: `the server sent ${error.message}`, cause: error });
    }
    throw error;
  }
  if (!finished) {
    throw new ProviderError({
      provider: PROVIDER,
      type: 'connection_error',
      code: 'truncated',
      during: during(),
      detail: 'the stream ended before data: [DONE] and without a finish_reason: the answer was cut short',
    });
  }
}

/** A violation frame as the RailViolationError the server's stream ended with; any other error frame as a ProviderError. */
function frameError(error: NonNullable<Frame['error']>, during: 'request' | 'stream'): RailViolationError | ProviderError {
  const message = typeof error.message === 'string' ? error.message : undefined;
  const type = typeof error.type === 'string' ? error.type : undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const rail = typeof error.param === 'string' && error.param !== '' ? error.param : undefined;
  const payload = { message, type, param: error.param ?? null, code: error.code ?? null };
  if (rail !== undefined && message !== undefined && type === 'guardrails_violation') {
    const verdict: RailVerdict = { rail, allowed: false, kind: 'violation', reason: message, details: { payload } };
    // NeMo's wording is the error's own; a server with enable_rails_exceptions words it otherwise, which is kept.
    const exception = message === `Blocked by ${rail} rails.` ? undefined : { type, message };
    return new RailViolationError({ rail, batchIndex: 0, verdict, ...(exception ? { exception } : {}) });
  }
  if (rail !== undefined && message !== undefined && type === 'internal_error' && code === 'rail_execution_failure') {
    const prefix = `Internal error in ${rail} rail: `;
    const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
    const verdict: RailVerdict = { rail, allowed: false, kind: 'internal_error', reason, details: { payload } };
    return new RailViolationError({ rail, batchIndex: 0, verdict });
  }
  return new ProviderError({ provider: PROVIDER, type, code, during, detail: message ?? 'the server sent an error frame without a message' });
}

/** An HTTP error answer as a ProviderError with the server's own message (OpenAI's error shape). */
async function httpError(response: Response): Promise<ProviderError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status says enough.
  }
  let parsed: Frame['error'];
  try {
    parsed = (JSON.parse(text) as Frame | null)?.error;
  } catch {
    parsed = undefined;
  }
  const message = typeof parsed?.message === 'string' && parsed.message !== '' ? parsed.message : text.trim().slice(0, 300) || response.statusText || 'no message';
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new ProviderError({
    provider: PROVIDER,
    status: response.status,
    type: typeof parsed?.type === 'string' ? parsed.type : undefined,
    code: typeof parsed?.code === 'string' ? parsed.code : undefined,
    during: 'request',
    detail: message,
    ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfter } : {}),
  });
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
