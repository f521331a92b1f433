// Internal: turns whatever an SDK threw into a ProviderError, by the shape of the error (the SDKs are optional
// peers, so their classes are never imported).
import { ProviderError } from '../errors/ProviderError.js';

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  type?: unknown;
  code?: unknown;
  error?: unknown;
  apiMessage?: unknown;
  cause?: unknown;
  headers?: unknown;
  /** LangChain's error code (`MODEL_RATE_LIMIT`, ...), on the SDK error it wraps or its own. */
  lc_error_code?: unknown;
}

export function toProviderError(provider: string, error: unknown, during: 'request' | 'stream'): ProviderError {
  if (ProviderError.isInstance(error)) return error;
  const shape = (error !== null && typeof error === 'object' ? error : {}) as ErrorShape;
  const body = asRecord(shape.error);
  const nested = asRecord(body?.error);
  const status = typeof shape.status === 'number' ? shape.status : undefined;

  if (isDroppedConnection(shape)) {
    return new ProviderError({ provider, type: 'connection_error', during, detail: 'the connection dropped', cause: error });
  }
  const connection = status === undefined ? connectionFailure(shape) : undefined;
  if (connection) {
    return new ProviderError({ provider, type: connection, during, detail: stringOf(shape.message) ?? 'connection error', cause: error });
  }
  const type = stringOf(shape.type) ?? stringOf(body?.type) ?? stringOf(nested?.type);
  const code = stringOf(shape.code) ?? stringOf(body?.code) ?? stringOf(nested?.code) ?? stringOf(shape.lc_error_code);
  const detail =
    stringOf(shape.apiMessage) ?? stringOf(nested?.message) ?? stringOf(body?.message) ?? stringOf(shape.message) ?? String(error);
  const retryAfter = status === undefined ? undefined : retryAfterOf(shape.headers);
  return new ProviderError({ provider, status, type, code, during, detail, cause: error, ...(retryAfter === undefined ? {} : { retryAfter }) });
}

/**
 * Seconds to wait, from the error answer's headers: `retry-after-ms` (OpenAI's, more precise) else `retry-after`
 * (seconds, or an HTTP date). The SDKs give a `Headers` object (openai 5+, @anthropic-ai/sdk); older ones a record.
 */
function retryAfterOf(headers: unknown): number | undefined {
  const header = (name: string): string | undefined => {
    if (headers === null || typeof headers !== 'object') return undefined;
    const value = typeof (headers as { get?: unknown }).get === 'function' ? (headers as { get(name: string): unknown }).get(name) : (headers as Record<string, unknown>)[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const milliseconds = Number(header('retry-after-ms'));
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds / 1000;
  const value = header('retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

// Errors are recognised by shape, never with instanceof: fetch's errors come from Node's own realm, which is
// not the realm of the caller under jest or in a vm.

/** undici reports a socket closed mid-body as `TypeError: terminated` (cause code UND_ERR_SOCKET). */
function isDroppedConnection(error: ErrorShape): boolean {
  const cause = asRecord(error.cause);
  return (error.name === 'TypeError' && error.message === 'terminated') || cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The SDKs' APIConnectionError / APIConnectionTimeoutError (no status), or fetch failing to connect. */
function connectionFailure(error: ErrorShape): 'connection_error' | 'timeout' | undefined {
  const kind = typeof (error as { constructor?: { name?: unknown } }).constructor?.name === 'string' ? (error as { constructor: { name: string } }).constructor.name : '';
  if (/ConnectionTimeoutError$/.test(kind) || error.message === 'Request timed out.') return 'timeout';
  if (/ConnectionError$/.test(kind) || error.message === 'Connection error.') return 'connection_error';
  const cause = asRecord(error.cause);
  const code = stringOf(cause?.code) ?? stringOf(asRecord(cause?.cause)?.code);
  if ((error.name === 'TypeError' && error.message === 'fetch failed') || (code !== undefined && UNREACHABLE.has(code))) return 'connection_error';
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
