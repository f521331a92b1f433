import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { defer, finalize, from, map, type Observable, type Subscription } from 'rxjs';
import { ConfigError, type ConfigIssue } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { StreamingNotSupportedError } from '../errors/StreamingNotSupportedError.js';
import { assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import type { EngineClients } from '../llm/engineModel.js';
import { LLMRails } from '../llm/LLMRails.js';
import type { ChatModel } from '../core/types.js';
import { RailsConfig } from '../node/RailsConfig.js';
import { REFUSAL } from '../core/refusals.js';
import { pythonJsonDumps } from '../internal/pythonJson.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import {
  type ChatCompletionRequest,
  chatCompletionRequest,
  ChunkFramer,
  chatMessages,
  type CompletionIds,
  completionIds,
  DONE_FRAME,
  llmParams,
  openAIError,
  openAIUsage,
  requestError,
} from './openAIProtocol.js';

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /**
   * A config folder (served as one config, named after the folder), or a folder of config folders (each
   * sub-folder holding a config.yml is a config, named after it), as NeMo's server reads `--config`.
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
  /** Also record every LLM call here. */
  readonly usage?: UsageTracker;
  /** Where config warnings go. @default console.warn */
  readonly onWarning?: (warning: ConfigIssue) => void;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * The guardrails server as a Hono app, OpenAI-compatible (NeMo Guardrails v0.21's wire format): the official
 * `openai` client works against it unchanged, with `config_id` (top level, or `guardrails: { config_id }`) choosing
 * the config.
 *
 * - `POST /v1/chat/completions`: `stream: true` answers `text/event-stream` with `chat.completion.chunk` frames (a
 *   role frame, one frame per released token, a final frame with `finish_reason`, a usage frame when
 *   `stream_options.include_usage`, then `data: [DONE]`); a violation is `data: {"error": {...}}` (NeMo's payload)
 *   then `data: [DONE]`. Otherwise a `chat.completion` with usage; a blocked answer is NeMo's refusal, with the
 *   violation under `guardrails.violation`. A client that disconnects cancels the model request and the rails.
 * - `GET /v1/rails/configs`: the config ids, as `[{ "id": ... }]`. `GET /health`: `{ "status": "ok" }`.
 * - Bad requests (malformed JSON, missing or wrongly typed fields, unknown config, too large, bad API key) get
 *   OpenAI-shaped 4xx errors.
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
 */
export async function createApp(options: CreateAppOptions): Promise<Hono> {
  assertKnownKeys('createApp', options, ['configDir', 'defaultConfigId', 'apiKey', 'bodyLimit', 'models', 'clients', 'usage', 'onWarning']);
  const { configDir, apiKey, bodyLimit: limit = 1024 * 1024, models, clients, usage, onWarning } = options;
  if (typeof configDir !== 'string' || configDir === '') {
    throw new InvalidOptionError('configDir', configDir, `createApp: configDir must be a folder path, got ${describeValue(configDir)}`);
  }
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw new InvalidOptionError('apiKey', apiKey, `createApp: apiKey must be a non-empty string when given, got ${describeValue(apiKey)}`);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError('bodyLimit', limit, `createApp: bodyLimit must be a positive whole number of bytes, got ${describeValue(limit)}`);
  }
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
  app.use('/v1/*', async (c, next) => {
    if (apiKey !== undefined && !bearerMatches(c.req.header('authorization'), apiKey)) {
      return c.json(openAIError('Incorrect or missing API key: send Authorization: Bearer <key>.', { code: 'invalid_api_key' }), 401);
    }
    return next();
  });
  const tooLarge = (c: Context) => c.json(openAIError(`The request body is larger than ${limit} bytes.`, { code: 'request_too_large' }), 413);
  const countedBodyLimit = bodyLimit({ maxSize: limit, onError: tooLarge });
  app.use('/v1/*', (c, next) => {
    // A declared length is checked here, leaving the body unread, so @hono/node-server reads it straight from the
    // socket (Hono's bodyLimit would first make it build a web Request, a ReadableStream and an AbortController:
    // half of the server's CPU per request). A body without one (chunked) is counted as it comes by Hono's bodyLimit.
    const length = c.req.header('content-length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > limit ? Promise.resolve(tooLarge(c)) : next();
    }
    return countedBodyLimit(c, next);
  });
  app.get('/v1/rails/configs', (c) => c.json(ids.map((id) => ({ id }))));

  app.post('/v1/chat/completions', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json(openAIError('We could not parse the JSON body of your request: it is not valid JSON.', { code: 'invalid_json' }), 400);
    }
    const parsed = chatCompletionRequest.safeParse(body);
    if (!parsed.success) return c.json(requestError(parsed.error.issues), 400);
    const request = parsed.data;
    const configId = request.config_id ?? request.guardrails?.config_id ?? defaultConfigId;
    if (configId === undefined) {
      return c.json(openAIError('No guardrails config_id provided and server has no default configuration', { param: 'config_id', code: 'missing_config_id' }), 422);
    }
    const rails = configs.get(configId);
    if (!rails) {
      return c.json(
        openAIError(`The guardrails config '${configId}' does not exist; this server has: ${ids.join(', ')}.`, { param: 'config_id', code: 'config_not_found' }),
        404,
      );
    }
    const completion = completionIds(request.model);
    if (!request.stream) return complete(rails, request, completion, configId, c.req.raw.signal);
    // Under @hono/node-server the response's 'close' tells of a client gone; elsewhere the request's signal.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    return streamCompletion(rails, request, completion, outgoing ? { outgoing } : { signal: c.req.raw.signal });
  });

  app.notFound((c) => c.json(openAIError(`Unknown path ${c.req.method} ${c.req.path}.`, { code: 'not_found' }), 404));
  app.onError((error, c) => {
    console.error(error);
    return c.json(openAIError('Internal server error.', { type: 'server_error' }), 500);
  });
  return app;
}

/** The configs a folder serves: itself (named after it) when it holds a config.yml, else each sub-folder that does. */
export function configFolders(configDir: string): [string, string][] {
  const root = resolve(configDir);
  const hasConfig = (folder: string) => ['config.yml', 'config.yaml'].some((name) => statSync(join(folder, name), { throwIfNoEntry: false })?.isFile());
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError([{ file: configDir, message: 'no such config folder' }]);
  }
  if (hasConfig(root)) return [[basename(root), root]];
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith('_') && hasConfig(join(root, entry.name)))
    .map((entry): [string, string] => [entry.name, join(root, entry.name)])
    .sort(([a], [b]) => a.localeCompare(b));
  if (folders.length === 0) throw new ConfigError([{ file: configDir, message: 'no config.yml here, nor in any sub-folder' }]);
  return folders;
}

function bearerMatches(header: string | undefined, apiKey: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What a failure of the answer becomes on the wire. */
function errorPayload(error: unknown): { payload: string; status: number } {
  if (RailViolationError.isInstance(error)) return { payload: error.toChunk(), status: 200 };
  if (ProviderError.isInstance(error)) {
    return {
      payload: pythonJsonDumps(openAIError(`The model provider failed: ${error.message}`, { type: error.type ?? 'api_error', code: error.code ?? null })),
      status: 502,
    };
  }
  console.error(error);
  return { payload: pythonJsonDumps(openAIError('Internal server error.', { type: 'server_error' })), status: 500 };
}

/** Where the SSE frames of one response go: whole strings in, closed once with the last of them. */
interface FrameSink {
  write(frames: string): void;
  end(frames: string): void;
}

/**
 * Streams the answer as SSE. Under @hono/node-server the frames are written straight to Node's response (no web
 * ReadableStream per response: about a third of the server's time under load); anywhere else (app.request(),
 * other runtimes) through a ReadableStream. Either way, a client that goes away unsubscribes the answer, which
 * aborts the model request and the rails.
 */
function streamCompletion(
  rails: LLMRails,
  request: ChatCompletionRequest,
  ids: CompletionIds,
  { outgoing, signal }: { readonly outgoing: ServerResponse; readonly signal?: undefined } | { readonly outgoing?: undefined; readonly signal: AbortSignal },
): Response {
  const messages = chatMessages(request);
  const withUsage = request.stream_options?.include_usage === true;
  const usage = new UsageTracker();
  const params = llmParams(request);
  let tokens$: Observable<string>;
  try {
    tokens$ = rails.stream(messages, { llmParams: params, usage });
  } catch (error) {
    if (!StreamingNotSupportedError.isInstance(error)) throw error;
    // Output rails that cannot stream check the whole answer, which then comes as one chunk; unsubscribing aborts it.
    tokens$ = defer(() => {
      const cancel = new AbortController();
      return from(rails.generate(messages, { llmParams: params, usage, signal: cancel.signal })).pipe(
        map((message) => message.content),
        finalize(() => cancel.abort()),
      );
    });
  }
  const framer = new ChunkFramer(ids, withUsage);
  let subscription: Subscription | undefined;
  const stop = () => subscription?.unsubscribe();

  const run = (sink: FrameSink) => {
    let open = true;
    // Frames of one synchronous burst (a model that answers at once, a released window) go out in one write; a
    // token that arrives alone is written at the end of its task, so no token waits for another.
    let pending = '';
    const flush = () => {
      if (open && pending !== '') sink.write(pending);
      pending = '';
    };
    const send = (frame: string) => {
      if (!open) return;
      if (pending === '') queueMicrotask(flush);
      pending += frame;
    };
    const close = () => {
      const last = pending + DONE_FRAME;
      pending = '';
      open = false;
      sink.end(last);
    };
    send(framer.role());
    subscription = tokens$.subscribe({
      next: (token) => send(framer.token(token)),
      error: (error: unknown) => {
        send(`data: ${errorPayload(error).payload}\n\n`);
        close();
      },
      complete: () => {
        send(framer.finish());
        if (withUsage) send(framer.usage(openAIUsage(usage.snapshot().totals)));
        close();
      },
    });
  };
  if (outgoing) {
    outgoing.writeHead(200, SSE_HEADERS);
    outgoing.on('close', stop);
    run({ write: (frames) => outgoing.write(frames), end: (frames) => outgoing.end(frames) });
    return RESPONSE_ALREADY_SENT;
  }
  signal.addEventListener('abort', stop, { once: true });
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start: (controller) =>
      run({
        write: (frames) => controller.enqueue(encoder.encode(frames)),
        end: (frames) => {
          controller.enqueue(encoder.encode(frames));
          controller.close();
        },
      }),
    cancel: stop,
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

async function complete(rails: LLMRails, request: ChatCompletionRequest, ids: CompletionIds, configId: string, signal: AbortSignal): Promise<Response> {
  const usage = new UsageTracker();
  let content: string;
  let violation: unknown;
  try {
    content = (await rails.generate(chatMessages(request), { llmParams: llmParams(request), usage, signal })).content;
  } catch (error) {
    if (!RailViolationError.isInstance(error)) {
      const { payload, status } = errorPayload(error);
      return new Response(payload, { status, headers: { 'content-type': 'application/json' } });
    }
    // As NeMo's server answers a blocked message: the refusal, as a normal completion.
    content = REFUSAL;
    violation = error.toJSON().error;
  }
  return Response.json({
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: openAIUsage(usage.snapshot().totals),
    guardrails: { config_id: configId, ...(violation ? { violation } : {}) },
  });
}
