// Internal: the streaming path of the OpenAI-compatible models the config makes itself (engines openai, nim,
// nvidia_ai_endpoints, vllm_openai): a POST to `<baseURL>/chat/completions` (the platform's fetch, or the HTTP client
// the endpoint names: the server's is Node's own, see streamingPost.ts) and a well-kept SSE parser
// (eventsource-parser), without the SDK's per-chunk machinery. Users' own clients keep the SDK (fromOpenAI).
//
// Why: in the server's engine path the openai SDK's SSE decoding and stream iterator (a copy of the buffered rest
// per event, a line decoder, an SSE decoder, an async generator over another async generator, per event) were
// about 15 % of the server's CPU and much of its garbage. Here one network chunk is decoded once, split by one
// linear pass, and each data frame JSON-parsed once.
//
// What is kept from the SDK (openai 6.x), so that callers see the same thing on either path (spec:
// spec/sources/fetchOpenAIChat.spec.ts runs the recorded streams through both):
// - the request: the same JSON body (stream: true, stream_options.include_usage: true), Authorization: Bearer,
//   OpenAI-Organization / OpenAI-Project when set, Accept: application/json, X-Stainless-Retry-Count;
// - HTTP errors: the body read, its `error` object giving type, code and message, the message made as the SDK's
//   APIError makes it (`401 Incorrect API key provided`), retry-after headers read, so that toProviderError gives
//   the same ProviderError (status, type, code, detail, retryAfter, retryable);
// - an `error` frame mid-stream, a frame that is not JSON (the JSON.parse SyntaxError), a dropped connection
//   (undici's `terminated`), a refused connection (`Connection error.`), a connect timeout (`Request timed out.`);
// - `[DONE]`: frames after it are ignored, the body is read to its end (the connection is reused); a stream that
//   ends without it just completes, as with the SDK. One difference of timing: the call completes at `[DONE]`, the
//   rest of the body is read after (the SDK completes when the body ends, a read later), so that a server's last
//   frames (the last tokens, the finish frame, [DONE]) go out in one write. On either path a connection that drops
//   once the answer was whole (choice 0's finish chunk read, see openAIChatChunks.ts) completes the call instead of
//   failing it;
// - retries: `maxRetries` times, on a failed connection and on the statuses the SDK retries (408, 409, 429, 5xx,
//   or as `x-should-retry` says), after `retry-after-ms` / `retry-after` or the SDK's backoff (0.5 s doubling, at
//   most 8 s, minus up to 25 % jitter); the wait is aborted with the call.
// What differs, on purpose:
// - no per-attempt connect timeout of its own: the SDK's (set by engineModel to the first-token bound) cannot fire
//   before the first-token bound of providerStream, which starts earlier and covers every attempt;
// - an event with no `data:` line (`event: x` alone) is skipped, as the SSE standard says (the SDK JSON-parses an
//   empty string and fails); the SDK's console logging of an unparsable frame is not repeated;
// - one event is bounded (MAX_EVENT_CHARACTERS): a larger one fails the call instead of growing the buffer.
// eventsource-parser ^3: v3 declares node >= 18 and runs on this package's Node 20 floor (and in browsers); v4
// declares node >= 22.12.
import { createParser } from 'eventsource-parser';
import type { Observable } from 'rxjs';
import type { SourceOptions } from '../core/types.js';
import { openAIChatStream } from './openAIChatChunks.js';
import type { OpenAIChatChunk, OpenAIChatParams } from './providerTypes.js';
import { answerText, fetchPost, type StreamingPost, type StreamingPostAnswer } from './streamingPost.js';

/** Where and how to call an OpenAI-compatible server: what the SDK client would have been made with. */
export interface OpenAIEndpoint {
  /** The API's base URL, e.g. `https://api.openai.com/v1` (`/chat/completions` is added). */
  readonly baseURL: string;
  readonly apiKey: string;
  readonly organization?: string | null;
  readonly project?: string | null;
  /**
   * Times a failed connection or a retryable status is tried again.
   * @default 0
   */
  readonly maxRetries?: number;
  /** The fetch to use; the global one, looked up per call, by default. */
  readonly fetch?: typeof fetch;
  /** The HTTP client to use instead of a fetch (the server's: Node's own). */
  readonly post?: StreamingPost;
}

/** The largest SSE event read, in characters: a provider's frame is a few hundred; a larger one fails the call. */
export const MAX_EVENT_CHARACTERS = 16 * 2 ** 20;

const DONE = '[DONE]';

/** Streams a Chat Completion's text from `endpoint`: what fromOpenAI gives with an SDK client, without the SDK. */
export function fetchOpenAIChat(endpoint: OpenAIEndpoint, params: OpenAIChatParams, options: SourceOptions = {}): Observable<string> {
  const url = `${endpoint.baseURL}${endpoint.baseURL.endsWith('/') ? '' : '/'}chat/completions`;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/json',
    authorization: `Bearer ${endpoint.apiKey}`,
    ...(endpoint.organization ? { 'openai-organization': endpoint.organization } : {}),
    ...(endpoint.project ? { 'openai-project': endpoint.project } : {}),
  };
  const maxRetries = endpoint.maxRetries ?? 0;
  const post = endpoint.post ?? fetchPost(endpoint.fetch);
  return openAIChatStream('fetchOpenAIChat', params, options, (request) => {
    // The body is the same for every call of the observable and every retry: serialised once.
    const body = JSON.stringify(request);
    return async (signal) => chatChunks(await connect(post, url, headers, body, maxRetries, signal), signal);
  });
}

/** The answer of the first attempt that answered 2xx; the errors of the last one, as the SDK gives them. */
async function connect(post: StreamingPost, url: string, headers: Record<string, string>, body: string, maxRetries: number, signal: AbortSignal): Promise<StreamingPostAnswer> {
  for (let attempt = 0; ; attempt++) {
    let response: StreamingPostAnswer;
    try {
      response = await post(url, { headers: { ...headers, 'x-stainless-retry-count': String(attempt) }, body, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      if (attempt < maxRetries) {
        await sleep(defaultRetryDelay(attempt), signal);
        continue;
      }
      throw connectionError(error);
    }
    if (response.status >= 200 && response.status < 300) return response;
    if (attempt < maxRetries && shouldRetry(response)) {
      await response.cancel().catch(() => undefined);
      await sleep(retryDelay(response.headers, attempt), signal);
      continue;
    }
    throw await statusError(response);
  }
}

/**
 * The chunks of the SSE body: one read of the body per network chunk, its events parsed as they end. Nothing is
 * read before the consumer asks (the for-await of providerStream), so a consumer that waits stops the reads and
 * TCP pushes back on the provider.
 */
async function* chatChunks(response: StreamingPostAnswer, signal: AbortSignal): AsyncGenerator<OpenAIChatChunk> {
  // The statuses whose answers have no body (fetch gives them a null one), as the openai SDK words it.
  if (response.status === 204 || response.status === 205) throw new Error('Attempted to iterate over a response with no body');
  const decoder = new TextDecoder();
  const frames: string[] = [];
  let overflow: Error | undefined;
  const parser = createParser({
    onEvent: (event) => void frames.push(event.data),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = new Error(`an event of the stream is over ${MAX_EVENT_CHARACTERS} characters`);
    },
    maxBufferSize: MAX_EVENT_CHARACTERS,
  });
  /** The body was read to its end, or is being read to it after [DONE]: nothing to cancel. */
  let ended = false;
  try {
    for (;;) {
      const bytes = await response.read();
      if (bytes === undefined) {
        ended = true;
        break;
      }
      parser.feed(decoder.decode(bytes, { stream: true }));
      if (overflow) throw overflow;
      // A chunk of many events (a burst) is handed on an event at a time, each JSON-parsed only when reached.
      for (let index = 0; index < frames.length; index++) {
        const data = frames[index]!;
        if (data.startsWith(DONE)) {
          ended = true;
          void drain(response);
          return;
        }
        const chunk = JSON.parse(data) as OpenAIChatChunk & { error?: unknown };
        if (chunk && chunk.error) throw eventError(chunk.error, response.headers);
        yield chunk;
      }
      frames.length = 0;
    }
  } catch (error) {
    // Aborted by the call's end: nothing more to say, as with the SDK.
    if (signal.aborted) return;
    throw error;
  } finally {
    if (!ended) await response.cancel().catch(() => undefined);
  }
}

/** Reads the rest of a body to its end, for its connection to be reused; a failure then is nobody's concern. */
async function drain(response: StreamingPostAnswer): Promise<void> {
  try {
    while ((await response.read()) !== undefined);
  } catch {
    // The connection is gone: there is nothing left to reuse.
  }
}

/** What the SDK's APIError carries, which is what toProviderError reads. */
class OpenAIAPIError extends Error {
  readonly type: unknown;
  readonly code: unknown;

  constructor(
    readonly status: number | undefined,
    readonly error: unknown,
    message: string | undefined,
    readonly headers: StreamingPostAnswer['headers'] | undefined,
  ) {
    super(apiErrorMessage(status, error, message));
    const data = (error !== null && typeof error === 'object' ? error : {}) as { type?: unknown; code?: unknown };
    this.type = data.type;
    this.code = data.code;
  }
}

/** The SDK's APIError.makeMessage. */
function apiErrorMessage(status: number | undefined, error: unknown, message: string | undefined): string {
  const errorMessage = (error as { message?: unknown } | null | undefined)?.message;
  const text = errorMessage ? (typeof errorMessage === 'string' ? errorMessage : JSON.stringify(errorMessage)) : error ? JSON.stringify(error) : message;
  if (status && text) return `${status} ${text}`;
  if (status) return `${status} status code (no body)`;
  return text || '(no status code or body)';
}

async function statusError(response: StreamingPostAnswer): Promise<OpenAIAPIError> {
  const text = await answerText(response);
  let json: { error?: unknown } | undefined;
  try {
    json = JSON.parse(text) as { error?: unknown };
  } catch {
    json = undefined;
  }
  return new OpenAIAPIError(response.status, json?.error, json ? undefined : text, response.headers);
}

function eventError(error: unknown, headers: StreamingPostAnswer['headers']): OpenAIAPIError {
  return new OpenAIAPIError(undefined, error, undefined, headers);
}

/** The SDK's APIConnectionError / APIConnectionTimeoutError, told apart as it does. */
function connectionError(error: unknown): Error {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const timedOut = (error as { name?: unknown } | null)?.name === 'AbortError' || /timed? ?out/i.test(String(error) + (cause === undefined ? '' : String(cause)));
  return new Error(timedOut ? 'Request timed out.' : 'Connection error.', { cause: error });
}

function shouldRetry(response: StreamingPostAnswer): boolean {
  const header = response.headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
}

/** The wait before a retry the provider asked for (`retry-after-ms`, else `retry-after`), else the SDK's backoff. */
function retryDelay(headers: StreamingPostAnswer['headers'], attempt: number): number {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (!Number.isNaN(milliseconds) && milliseconds) return milliseconds;
  const after = headers.get('retry-after');
  if (after) {
    const seconds = Number.parseFloat(after);
    return Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
  }
  return defaultRetryDelay(attempt);
}

function defaultRetryDelay(attempt: number): number {
  return Math.min(0.5 * 2 ** attempt, 8) * (1 - Math.random() * 0.25) * 1000;
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, milliseconds));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
