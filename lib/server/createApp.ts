import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { ConfigError } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { guardedTelemetry, reportOnce } from '../internal/guardedTelemetry.js';
import { assertKnownKeys, assertTelemetry, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import { LLMRails } from '../llm/LLMRails.js';
import { configFolders } from '../node/configFolders.js';
import { nodeStreamingPost } from '../node/nodeStreamingPost.js';
import { RailsConfig } from '../node/RailsConfig.js';
import type { CreateAppOptions, ErrorContext } from './CreateAppOptions.js';
import { Lifecycle } from './lifecycle.js';
import { chatPageRoute } from './chatPageRoute.js';
import { apiKeyCheck, bodyLimitCheck, jsonOnly, refuseWhileShuttingDown } from './middleware.js';
import { openAIError } from './openAIProtocol.js';
import { CONFIG_HEADER, type ServedConfig, v1Routes } from './v1Routes.js';

const OPTION_KEYS = [
  'configDir', 'defaultConfigId', 'apiKey', 'bodyLimit', 'models', 'clients', 'usage', 'onWarning', 'onError', 'hideErrorDetail', 'corsOrigins', 'maxBufferedBytes', 'stallTimeoutMs',
  'telemetry', 'chatUi',
];

/** Where unexpected errors go when `onError` is not given: the one console call of the server. */
const logError = (error: unknown, context: ErrorContext): void => console.error(context.requestId ? `request ${context.requestId}:` : 'request:', error);

/** Each app's answers in flight, for {@link drain}. */
const lifecycles = new WeakMap<Hono, Lifecycle>();

/**
 * The guardrails server as a Hono app, OpenAI-compatible (NeMo Guardrails v0.21's wire format): the official
 * `openai` client works against it unchanged, with `config_id` (top level, or `guardrails: { config_id }`, or the
 * `X-Guardrails-Config-Id` header) choosing the config.
 *
 * - `POST /v1/chat/completions` (a JSON body: anything else is a 415): `stream: true` answers `text/event-stream`
 *   with `chat.completion.chunk` frames (a role frame, one frame per released token, a final frame with
 *   `finish_reason`, a usage frame when `stream_options.include_usage`, then `data: [DONE]`); a violation is
 *   `data: {"error": {...}}` (NeMo's payload) then `data: [DONE]`; a failure before the first token is answered
 *   with its own status (a provider's 429 with `retry-after`, a 504, a 500). Output rails that do not stream give
 *   the whole checked answer as one chunk. Otherwise a `chat.completion` with usage; a blocked answer is NeMo's
 *   refusal, with the violation under `guardrails.violation`. A client that disconnects, or stops reading past
 *   `maxBufferedBytes` / `stallTimeoutMs`, cancels the model request and the rails.
 * - `GET /`: the chat page (unless `chatUi: false`): a config picker, a chat whose answers stream in, and a timeline
 *   of what the rails did, from `stream_options.include_guardrails` (see the README). Self-contained: no CDN.
 * - `GET /v1/models`: the configs that can answer, in OpenAI's list shape. `GET /v1/rails/configs`: every config,
 *   `[{ "id": ... }]`, with `available: false` and the reason for one that cannot answer. `GET /health`.
 * - Bad requests (malformed JSON, missing or wrongly typed fields, unknown config, too large, bad API key) get
 *   OpenAI-shaped 4xx errors; unexpected errors a 500, and go to `onError` with the request's id.
 *
 * Configs are loaded once, here: a config with a syntax or schema error throws {@link ConfigError} and no app is
 * made; a config that cannot run on this machine (an engine's API key missing from the environment) is served as
 * unavailable (503 naming what is missing), so the others still answer. The app does not listen; the CLI
 * (`rxguardrails server`) serves it, tests call `app.request()`; {@link drain} shuts it down gracefully.
 *
 * ## Example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { createApp, drain } from 'rxguardrails/server';
 *
 * const app = await createApp({ configDir: './configs', apiKey: process.env.GUARDRAILS_API_KEY });
 * const server = serve({ fetch: app.fetch, port: 8000, hostname: '127.0.0.1' });
 * process.on('SIGTERM', async () => {
 *   server.close();
 *   await drain(app, { graceMs: 10_000 });
 * });
 * ```
 *
 * @param options `configDir`, and optionally `defaultConfigId`, `apiKey`, `bodyLimit` (default 1 MiB), `models`,
 * `clients`, `usage`, `onWarning` (default console.warn), `onError` (default console.error), `hideErrorDetail`
 * (default false), `corsOrigins` (default none), `maxBufferedBytes` (default 1 MiB), `stallTimeoutMs` (default
 * 30000), `telemetry` (default none), `chatUi` (default true).
 * @throws InvalidOptionError for a bad option, ConfigError for a missing or bad config.
 */
export async function createApp(options: CreateAppOptions): Promise<Hono> {
  assertKnownKeys('createApp', options, OPTION_KEYS);
  const {
    configDir, apiKey, bodyLimit: limit = 1024 * 1024, models, clients, usage, onWarning, onError = logError, hideErrorDetail = false,
    corsOrigins = [], maxBufferedBytes = 1024 * 1024, stallTimeoutMs = 30_000, telemetry, chatUi = true,
  } = options;
  if (typeof configDir !== 'string' || configDir === '') {
    throw new InvalidOptionError('configDir', configDir, `createApp: configDir must be a folder path, got ${describeValue(configDir)}`);
  }
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw new InvalidOptionError('apiKey', apiKey, `createApp: apiKey must be a non-empty string when given, got ${describeValue(apiKey)}`);
  }
  for (const [name, value] of [['bodyLimit', limit], ['maxBufferedBytes', maxBufferedBytes], ['stallTimeoutMs', stallTimeoutMs]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidOptionError(name, value, `createApp: ${name} must be a positive whole number${name === 'stallTimeoutMs' ? ' of milliseconds' : ' of bytes'}, got ${describeValue(value)}`);
    }
  }
  if (typeof chatUi !== 'boolean') throw new InvalidOptionError('chatUi', chatUi, `createApp: chatUi must be true or false, got ${describeValue(chatUi)}`);
  if (typeof hideErrorDetail !== 'boolean') {
    throw new InvalidOptionError('hideErrorDetail', hideErrorDetail, `createApp: hideErrorDetail must be true or false, got ${describeValue(hideErrorDetail)}`);
  }
  if (usage !== undefined) assertUsageSink('createApp', 'usage', usage);
  if (telemetry !== undefined) assertTelemetry('createApp', 'telemetry', telemetry);
  if (onWarning !== undefined && typeof onWarning !== 'function') {
    throw new InvalidOptionError('onWarning', onWarning, `createApp: onWarning must be a function (warning) => void, got ${describeValue(onWarning)}`);
  }
  if (typeof onError !== 'function') {
    throw new InvalidOptionError('onError', onError, `createApp: onError must be a function (error) => void, got ${describeValue(onError)}`);
  }
  if (!Array.isArray(corsOrigins) || !corsOrigins.every((origin) => typeof origin === 'string' && /^(\*|https?:\/\/[^/\s]+)$/.test(origin))) {
    throw new InvalidOptionError('corsOrigins', corsOrigins, `createApp: corsOrigins must be a list of origins like https://app.example (or '*'), got ${describeValue(corsOrigins)}`);
  }
  const report = (error: unknown, context: ErrorContext = {}) => {
    try {
      onError(error, context);
    } catch {
      // A reporter that fails must not take the answer down with it: the client is answered all the same.
    }
  };

  // One report for the app's first failing telemetry hook, to onError (each request span carries its config id).
  const telemetryFailed = reportOnce((error) => report(error));
  const configs = new Map<string, ServedConfig>();
  // The engines the configs make themselves call their OpenAI-compatible servers with Node's own HTTP client, over
  // keep-alive connections shared by every config (fetch costs the server several times as much per request).
  const engineClients = { http: nodeStreamingPost(), ...clients };
  for (const [id, folder] of configFolders(configDir)) {
    const config = await RailsConfig.fromPath(folder, onWarning ? { onWarning } : {});
    const railsTelemetry = telemetry && guardedTelemetry({ request: (start) => telemetry.request({ ...start, configId: id }) }, telemetryFailed);
    configs.set(id, await served(() => new LLMRails(config, { models, clients: engineClients, usage, onViolation: 'error', ...(railsTelemetry ? { telemetry: railsTelemetry } : {}) })));
  }
  const ids = [...configs.keys()];
  const defaultConfigId = options.defaultConfigId ?? (ids.length === 1 ? ids[0] : undefined);
  if (defaultConfigId !== undefined && !configs.has(defaultConfigId)) {
    throw new InvalidOptionError('defaultConfigId', defaultConfigId, `createApp: no config '${defaultConfigId}' in ${configDir} (there are: ${ids.join(', ')})`);
  }

  const lifecycle = new Lifecycle();
  const app = new Hono();
  if (corsOrigins.length > 0) {
    const origin = corsOrigins.includes('*') ? '*' : [...corsOrigins];
    // retry-after exposed: a browser app shows a script only the CORS-safelisted response headers otherwise, and a
    // 429's retry-after is what a client (fromGuardrailsServer's ProviderError.retryAfter) backs off by.
    app.use('*', cors({ origin, allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['authorization', 'content-type', CONFIG_HEADER], exposeHeaders: ['retry-after'], maxAge: 600 }));
  }
  // The page asks /v1 for everything (behind the API key, when there is one); the page itself holds nothing secret.
  if (chatUi) app.get('/', chatPageRoute());
  app.get('/health', (c) => c.json({ status: lifecycle.shuttingDown ? 'shutting down' : 'ok' }, lifecycle.shuttingDown ? 503 : 200));
  app.use('/v1/*', refuseWhileShuttingDown(lifecycle));
  if (apiKey !== undefined) app.use('/v1/*', apiKeyCheck(apiKey));
  app.use('/v1/chat/completions', jsonOnly());
  app.use('/v1/*', bodyLimitCheck(limit));
  app.route('/v1', v1Routes({ configs, defaultConfigId, onError: report, hideErrorDetail, lifecycle, limits: { maxBufferedBytes, stallTimeoutMs }, direct: corsOrigins.length === 0 }));
  app.notFound((c) => c.json(openAIError(`Unknown path ${c.req.method} ${c.req.path.slice(0, 200)}.`, { code: 'not_found' }), 404));
  app.onError((error, c) => {
    report(error);
    return c.json(openAIError('Internal server error.', { type: 'server_error' }), 500);
  });
  lifecycles.set(app, lifecycle);
  return app;
}

/**
 * Shuts an app made by {@link createApp} down gracefully: new requests get a 503 (and their connections close),
 * the answers in flight get `graceMs` to finish, then each still running ends with an error frame and
 * `data: [DONE]` (a 503 for one that had sent nothing yet). Resolves once no answer is left. Stop the listener
 * from accepting connections first (`server.close()`).
 * @param options `graceMs`: how long answers in flight may take to finish. @default 10000
 */
export async function drain(app: Hono, options: { readonly graceMs?: number } = {}): Promise<void> {
  assertKnownKeys('drain', options, ['graceMs']);
  const { graceMs = 10_000 } = options;
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new InvalidOptionError('graceMs', graceMs, `drain: graceMs must be a whole number of milliseconds, at least 0, got ${describeValue(graceMs)}`);
  const lifecycle = lifecycles.get(app);
  if (!lifecycle) throw new InvalidOptionError('app', app, 'drain: app must be an app made by createApp');
  await lifecycle.drain(graceMs);
}

/**
 * A config's rails, their engines' SDKs imported (so that its first requests do not wait for that), or why it cannot
 * answer here: a ConfigError whose every problem is the machine's (an API key missing from the environment, an SDK
 * package not installed) makes the config unavailable rather than the server; any other problem stops the start.
 */
async function served(make: () => LLMRails): Promise<ServedConfig> {
  try {
    const rails = make();
    await rails.warmUp();
    return { rails };
  } catch (error) {
    if (!ConfigError.isInstance(error) || !error.issues.every((issue) => issue.environment !== undefined)) throw error;
    return { unavailable: error.issues.map((issue) => issue.message).join('; ') };
  }
}
