import type { Observable } from 'rxjs';
import type { ChatMessage, SourceOptions } from '../core/types.js';
import { GuardrailError } from '../errors/GuardrailError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertHttpUrl, assertKnownKeys, assertMessages, assertOneOf, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import { LazyModule } from '../internal/lazyRail.js';
import type { ServerFrame } from './guardrailsServerFrames.js';
import { providerStream } from './providerStream.js';
import { assertSourceOptions, SOURCE_OPTION_KEYS } from './sourceArguments.js';
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

const OPTION_KEYS = ['baseURL', 'messages', 'configId', 'apiKey', 'model', 'params', 'onInputViolation', 'fetch', ...SOURCE_OPTION_KEYS];
/** Fields of the body this function writes itself. */
const RESERVED_PARAMS = ['messages', 'model', 'stream', 'stream_options', 'config_id'];
/** The server refuses longer ids (it echoes them); refusing here says so before a request is made. */
const MAX_ID = 256;
/** The reading half (HTTP errors, the SSE parser, the frames), loaded with the first request: see its header. */
const reader = new LazyModule(() => import('./guardrailsServerFrames.js'));

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
 * - Completes on `data: [DONE]`, or when the stream ends after the frame giving choice 0 its `finish_reason`. A
 *   stream that ends with neither was cut short: a {@link ProviderError} of type `connection_error`, code `truncated`.
 * - Once the answer is whole (the frame giving choice 0 its `finish_reason` was read), a connection that drops, or
 *   stalls past `timeout`'s idle bound, before `[DONE]` completes the stream too, with the usage frame's counts if it
 *   came, else estimated ones. What the server sends after that frame still counts: a violation frame errors with
 *   {@link RailViolationError}, an error frame or a frame that cannot be read with {@link ProviderError}, as anywhere
 *   in the stream. A connection that drops before that frame is an error (`connection_error`).
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
  // One wording for every check (the bytes of each message count: this part is in the core's initial bundle).
  const invalid = (option: string, value: unknown, must: string) => new InvalidOptionError(option, value, `${owner}: ${option} must be ${must}, got ${describeValue(value)}`);
  if (options === undefined) throw invalid('options', options, 'an object with baseURL and messages');
  assertKnownKeys(owner, options, OPTION_KEYS);
  const { baseURL, messages, configId, apiKey, model: modelOption, params = {}, onInputViolation, fetch: fetchOption, ...sourceOptions } = options;
  assertHttpUrl(owner, 'baseURL', baseURL);
  assertMessages(owner, 'messages', messages);
  if (messages.length === 0) throw invalid('messages', messages, 'a non-empty array');
  for (const [name, value] of [['configId', configId], ['apiKey', apiKey], ['model', modelOption]] as const) {
    // An API key may be a long token; the ids are echoed by the server, which refuses them longer.
    if (value !== undefined && (typeof value !== 'string' || value === '' || (name !== 'apiKey' && value.length > MAX_ID))) {
      throw invalid(name, value, `a non-empty string${name === 'apiKey' ? '' : ` of at most ${MAX_ID} characters`}`);
    }
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw invalid('params', params, 'an object (temperature, max_tokens, ...)');
  const reserved = RESERVED_PARAMS.find((key) => key in params);
  if (reserved !== undefined) throw invalid(`params.${reserved}`, params[reserved], `left out (${owner} sets it)`);
  if (onInputViolation !== undefined) assertOneOf(owner, 'onInputViolation', onInputViolation, ['refuse', 'error'] as const);
  if (fetchOption !== undefined && typeof fetchOption !== 'function') throw invalid('fetch', fetchOption, 'a fetch function');
  const { usage } = sourceOptions;
  if (usage !== undefined) assertUsageSink(owner, 'usage', usage);
  assertSourceOptions(owner, sourceOptions);
  const bounds = upstreamBounds(owner, sourceOptions.timeout);

  const model = modelOption ?? configId ?? 'default';
  const url = `${baseURL.replace(/\/+$/, '')}/chat/completions`;
  const body = JSON.stringify({
    ...params,
    model,
    messages,
    stream: true,
    // The usage frame only when someone reads it: the server then tracks the answer's calls for it.
    ...(usage ? { stream_options: { include_usage: true } } : {}),
    ...(configId === undefined ? {} : { config_id: configId }),
    // A `guardrails` object of params is kept, input_violation set over it.
    ...(onInputViolation === undefined ? {} : { guardrails: { ...(params['guardrails'] as object | undefined), input_violation: onInputViolation } }),
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
  };

  return providerStream<ServerFrame>({
    provider: 'guardrails-server',
    model,
    messages,
    options: sourceOptions,
    bounds,
    open: async (abort) => {
      // Sent at once, while the reading half loads (the first time): the chunk comes while the server works.
      const request = (fetchOption ?? globalThis.fetch)(url, { method: 'POST', headers, body, signal: abort });
      // Its failure is the frames' to report; until they are read it must not count as unhandled.
      request.catch(() => undefined);
      return (await reader.load()).serverFrames(request, url, abort);
    },
    read: (frame, call) => {
      if (frame.usage) call.report(frame.usage);
      return frame.content;
    },
    // The answer is whole at choice 0's finish frame: rxguardrails' server sends it once its rails are done, with only
    // the usage frame (when asked for) and [DONE] after it. A connection lost after it (or a stall over the idle bound)
    // completes the stream, as for the SDK sources, with the usage as reported or estimated. A frame sent after it
    // does not: a violation frame speaks of text already streamed (output rails that stream first check a chunk after
    // sending it), so it errors wherever it comes, and so do an error frame and a frame that cannot be read (it may
    // have been a violation): a guardrails client fails closed on what its server says. Those are the GuardrailErrors
    // the frames reader throws; a lost connection reaches here as the body's own error (a TypeError).
    ends: (frame) => frame.finished === true,
    overrules: (error) => GuardrailError.isInstance(error),
  });
}

