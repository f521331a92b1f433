// Internal: what a failed answer becomes on the wire, one mapping for the SSE and the JSON writers.
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { pythonJsonDumps } from '../internal/pythonJson.js';
import { openAIError } from './openAIProtocol.js';

/** A failure as the server sends it: the JSON text (an SSE `data:` payload, or a JSON body) and its HTTP status. */
export interface ErrorPayload {
  readonly payload: string;
  /**
   * The HTTP status of a response that has not started yet (a JSON body, or an SSE answer that failed before its
   * first token). Once a stream has started, only the payload is sent, as a frame.
   */
  readonly status: number;
  /**
   * Headers of a response that has not started yet: `retry-after` (whole seconds, the provider's rounded up) on a
   * 429 whose provider gave one.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Maps a failure of the answer:
 * - a rail violation: NeMo's payload, status 200 (the request itself was fine);
 * - a provider's 429: status 429, with the provider's `retry-after` (rounded up to whole seconds) when it gave
 *   one, so the client backs off as the provider asked;
 * - a provider that kept the answer waiting over a bound (a `ProviderError` of type `timeout`: the first token
 *   never came, or the stream stalled): status 504, `type: "timeout"`;
 * - any other provider failure: a 502 naming it;
 * - anything else: a 500 that tells the client nothing.
 * Only that last kind is an unexpected error, so only it goes to `onError`: the others are answers, not bugs. The
 * payloads are written as Python's json.dumps writes them, so the bytes are NeMo's.
 */
export function errorPayload(error: unknown, onError: (error: unknown) => void): ErrorPayload {
  if (RailViolationError.isInstance(error)) return { payload: error.toChunk(), status: 200, headers: {} };
  if (ProviderError.isInstance(error)) {
    const code = error.code ?? null;
    if (error.status === 429) {
      const headers: Record<string, string> = error.retryAfter === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfter)) };
      return {
        payload: pythonJsonDumps(openAIError(`The model provider failed: ${error.message}`, { type: error.type ?? 'rate_limit_error', code })),
        status: 429,
        headers,
      };
    }
    if (error.type === 'timeout') {
      return { payload: pythonJsonDumps(openAIError(`The model provider timed out: ${error.message}`, { type: 'timeout', code })), status: 504, headers: {} };
    }
    return {
      payload: pythonJsonDumps(openAIError(`The model provider failed: ${error.message}`, { type: error.type ?? 'api_error', code })),
      status: 502,
      headers: {},
    };
  }
  onError(error);
  return { payload: pythonJsonDumps(openAIError('Internal server error.', { type: 'server_error' })), status: 500, headers: {} };
}
