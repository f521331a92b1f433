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
  const code = stringOf(shape.code) ?? stringOf(body?.code) ?? stringOf(nested?.code);
  const detail =
    stringOf(shape.apiMessage) ?? stringOf(nested?.message) ?? stringOf(body?.message) ?? stringOf(shape.message) ?? String(error);
  return new ProviderError({ provider, status, type, code, during, detail, cause: error });
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
