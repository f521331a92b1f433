// Internal: what a failed answer becomes on the wire, one mapping for the SSE and the JSON writers.
import { ProviderError } from '../errors/ProviderError.js';
import { type GuardrailsErrorPayload, RailViolationError } from '../errors/RailViolationError.js';
import { pythonJsonDumps } from '../internal/pythonJson.js';
import { FAILED_REASON } from './guardrailsEvents.js';
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
 * A rail violation's payload as clients get it: NeMo's. With `hideDetail`, a failed rail's carries no detail of the
 * failure (`Internal error in <rail> rail: the rail failed`), which may say anything about the server (a judge's
 * provider URL, a masked key); NeMo's shape, so clients parse it as before. The error then goes to `onError`, so
 * that the detail is in the server's log.
 */
export function violationPayload(error: RailViolationError, onError: (error: unknown) => void, hideDetail: boolean): GuardrailsErrorPayload['error'] {
  const { error: payload } = error.toJSON();
  if (!hideDetail || error.info.verdict.kind !== 'internal_error') return payload;
  onError(error);
  return { ...payload, message: `Internal error in ${error.info.rail} rail: ${FAILED_REASON}` };
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
 *
 * `hideDetail` (createApp's `hideErrorDetail`): a failed rail's payload and a provider failure's message say what
 * failed (the rail; the provider's status, type and code) but not the error's own text, and those errors go to
 * `onError` too, so that the detail is in the server's log rather than with every client.
 */
export function errorPayload(error: unknown, onError: (error: unknown) => void, hideDetail = false): ErrorPayload {
  if (RailViolationError.isInstance(error)) return { payload: pythonJsonDumps({ error: violationPayload(error, onError, hideDetail) }), status: 200, headers: {} };
  if (ProviderError.isInstance(error)) {
    if (hideDetail) onError(error);
    // Hidden: what failed, as a client can act on it (the type, the provider's HTTP status), not the error's text.
    const failed = `The model provider failed: ${hideDetail ? `${error.type ?? 'error'}${error.status === undefined ? '' : ` (HTTP ${error.status})`}` : error.message}`;
    const code = error.code ?? null;
    if (error.status === 429) {
      const headers: Record<string, string> = error.retryAfter === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfter)) };
      return {
        payload: pythonJsonDumps(openAIError(failed, { type: error.type ?? 'rate_limit_error', code })),
        status: 429,
        headers,
      };
    }
    if (error.type === 'timeout') {
      const timedOut = hideDetail ? 'The model provider timed out.' : `The model provider timed out: ${error.message}`;
      return { payload: pythonJsonDumps(openAIError(timedOut, { type: 'timeout', code })), status: 504, headers: {} };
    }
    return {
      payload: pythonJsonDumps(openAIError(failed, { type: error.type ?? 'api_error', code })),
      status: 502,
      headers: {},
    };
  }
  onError(error);
  return { payload: pythonJsonDumps(openAIError('Internal server error.', { type: 'server_error' })), status: 500, headers: {} };
}
