import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ChatModel, UsageSink } from '../core/types.js';
import type { ConfigIssue } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import type { EngineClients } from '../llm/engineModel.js';
import { LLMRails } from '../llm/LLMRails.js';
import { configFolders } from '../node/configFolders.js';
import { RailsConfig } from '../node/RailsConfig.js';
import { openAIError } from './openAIProtocol.js';
import { v1Routes } from './v1Routes.js';

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
   * error. Rail violations, provider failures and bad requests are answers, not errors, and do not come here.
   * What it throws is ignored, so the client is still answered.
   * @default console.error
   */
  readonly onError?: (error: unknown) => void;
}

/** Where unexpected errors go when `onError` is not given: the one console call of the server. */
const logError = (error: unknown): void => console.error(error);

/**
 * The guardrails server as a Hono app, OpenAI-compatible (NeMo Guardrails v0.21's wire format): the official
 * `openai` client works against it unchanged, with `config_id` (top level, or `guardrails: { config_id }`) choosing
 * the config.
 *
 * - `POST /v1/chat/completions`: `stream: true` answers `text/event-stream` with `chat.completion.chunk` frames (a
 *   role frame, one frame per released token, a final frame with `finish_reason`, a usage frame when
 *   `stream_options.include_usage`, then `data: [DONE]`); a violation is `data: {"error": {...}}` (NeMo's payload)
 *   then `data: [DONE]`. Output rails that do not stream give the whole checked answer as one chunk. Otherwise a
 *   `chat.completion` with usage; a blocked answer is NeMo's refusal, with the violation under
 *   `guardrails.violation`. A client that disconnects cancels the model request and the rails.
 * - `GET /v1/rails/configs`: the config ids, as `[{ "id": ... }]`. `GET /health`: `{ "status": "ok" }`.
 * - Bad requests (malformed JSON, missing or wrongly typed fields, unknown config, too large, bad API key) get
 *   OpenAI-shaped 4xx errors; unexpected errors a 500, and go to `onError`.
 *
 * Configs are loaded once, here: a bad one throws {@link ConfigError} and no app is made. The app does not
 * listen; the CLI (`rxguardrails server`) serves it, tests call `app.request()`.
 *
 * ## Example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { createApp } from 'rxguardrails/server';
 *
 * const app = await createApp({ configDir: './configs', apiKey: process.env.GUARDRAILS_API_KEY });
 * serve({ fetch: app.fetch, port: 8000, hostname: '127.0.0.1' });
 * ```
 *
 * @param options `configDir`, and optionally `defaultConfigId`, `apiKey`, `bodyLimit` (default 1 MiB), `models`,
 * `clients`, `usage`, `onWarning` (default console.warn), `onError` (default console.error).
 * @throws InvalidOptionError for a bad option, ConfigError for a missing or bad config.
 */
export async function createApp(options: CreateAppOptions): Promise<Hono> {
  assertKnownKeys('createApp', options, ['configDir', 'defaultConfigId', 'apiKey', 'bodyLimit', 'models', 'clients', 'usage', 'onWarning', 'onError']);
  const { configDir, apiKey, bodyLimit: limit = 1024 * 1024, models, clients, usage, onWarning, onError = logError } = options;
  if (typeof configDir !== 'string' || configDir === '') {
    throw new InvalidOptionError('configDir', configDir, `createApp: configDir must be a folder path, got ${describeValue(configDir)}`);
  }
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw new InvalidOptionError('apiKey', apiKey, `createApp: apiKey must be a non-empty string when given, got ${describeValue(apiKey)}`);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError('bodyLimit', limit, `createApp: bodyLimit must be a positive whole number of bytes, got ${describeValue(limit)}`);
  }
  if (usage !== undefined) assertUsageSink('createApp', 'usage', usage);
  if (onWarning !== undefined && typeof onWarning !== 'function') {
    throw new InvalidOptionError('onWarning', onWarning, `createApp: onWarning must be a function (warning) => void, got ${describeValue(onWarning)}`);
  }
  if (typeof onError !== 'function') {
    throw new InvalidOptionError('onError', onError, `createApp: onError must be a function (error) => void, got ${describeValue(onError)}`);
  }
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // A reporter that fails must not take the answer down with it: the client is answered all the same.
    }
  };

  const configs = new Map<string, LLMRails>();
  for (const [id, folder] of configFolders(configDir)) {
    const config = await RailsConfig.fromPath(folder, onWarning ? { onWarning } : {});
    // The server chooses the wire format of violations, so the rails always report them as errors.
    configs.set(id, new LLMRails(config, { models, clients, usage, onViolation: 'error', keepCalls: 1000 }));
  }
  const ids = [...configs.keys()];
  const defaultConfigId = options.defaultConfigId ?? (ids.length === 1 ? ids[0] : undefined);
  if (defaultConfigId !== undefined && !configs.has(defaultConfigId)) {
    throw new InvalidOptionError('defaultConfigId', defaultConfigId, `createApp: no config '${defaultConfigId}' in ${configDir} (there are: ${ids.join(', ')})`);
  }

  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  if (apiKey !== undefined) app.use('/v1/*', apiKeyCheck(apiKey));
  app.use('/v1/*', bodyLimitCheck(limit));
  app.route('/v1', v1Routes({ configs, defaultConfigId, onError: report }));
  app.notFound((c) => c.json(openAIError(`Unknown path ${c.req.method} ${c.req.path}.`, { code: 'not_found' }), 404));
  app.onError((error, c) => {
    report(error);
    return c.json(openAIError('Internal server error.', { type: 'server_error' }), 500);
  });
  return app;
}

/** Answers 401 unless the request carries `Authorization: Bearer <apiKey>`. */
function apiKeyCheck(apiKey: string): MiddlewareHandler {
  const expected = Buffer.from(apiKey);
  return async (c, next) => {
    const header = c.req.header('authorization');
    const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
    // Compared in constant time, so the answer's timing tells nothing about how much of a guess was right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return c.json(openAIError('Incorrect or missing API key: send Authorization: Bearer <key>.', { code: 'invalid_api_key' }), 401);
    }
    return next();
  };
}

/** Answers 413 for a body over `limit` bytes. */
function bodyLimitCheck(limit: number): MiddlewareHandler {
  const tooLarge = (c: Context) => c.json(openAIError(`The request body is larger than ${limit} bytes.`, { code: 'request_too_large' }), 413);
  const countedBodyLimit = bodyLimit({ maxSize: limit, onError: tooLarge });
  return (c, next) => {
    // A declared length is checked here, leaving the body unread, so @hono/node-server reads it straight from the
    // socket (Hono's bodyLimit would first make it build a web Request, a ReadableStream and an AbortController:
    // half of the server's CPU per request). A body without one (chunked) is counted as it comes by Hono's bodyLimit.
    const length = c.req.header('content-length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > limit ? Promise.resolve(tooLarge(c)) : next();
    }
    return countedBodyLimit(c, next);
  };
}
