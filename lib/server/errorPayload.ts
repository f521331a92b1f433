// Internal: what a failed answer becomes on the wire, one mapping for the SSE and the JSON writers.
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { pythonJsonDumps } from '../internal/pythonJson.js';
import { openAIError } from './openAIProtocol.js';

/** A failure as the server sends it: the JSON text (an SSE `data:` payload, or a JSON body) and its HTTP status. */
export interface ErrorPayload {
  readonly payload: string;
  readonly status: number;
}

/**
 * Maps a failure of the answer: a rail violation is NeMo's payload (status 200: the request itself was fine), a
 * provider failure a 502 naming it, anything else a 500 that tells the client nothing. Only that last kind is an
 * unexpected error, so only it goes to `onError`: the others are answers, not bugs. The payloads are written as
 * Python's json.dumps writes them, so the bytes are NeMo's.
 */
export function errorPayload(error: unknown, onError: (error: unknown) => void): ErrorPayload {
  if (RailViolationError.isInstance(error)) return { payload: error.toChunk(), status: 200 };
  if (ProviderError.isInstance(error)) {
    return {
      payload: pythonJsonDumps(openAIError(`The model provider failed: ${error.message}`, { type: error.type ?? 'api_error', code: error.code ?? null })),
      status: 502,
    };
  }
  onError(error);
  return { payload: pythonJsonDumps(openAIError('Internal server error.', { type: 'server_error' })), status: 500 };
}
