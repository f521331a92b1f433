// Internal: the checks in front of the /v1 routes, as Hono middleware. Each answers an OpenAI-shaped error itself
// when a request fails it, and otherwise lets the request through untouched.
import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Lifecycle } from './lifecycle.js';
import { openAIError } from './openAIProtocol.js';

/** Answers 401 unless the request carries `Authorization: Bearer <apiKey>` (the scheme in any case, as RFC 7235 says). */
export function apiKeyCheck(apiKey: string): MiddlewareHandler {
  const expected = Buffer.from(apiKey);
  return async (c, next) => {
    const credentials = /^bearer[ \t]+(.*)$/i.exec(c.req.header('authorization') ?? '');
    const given = Buffer.from(credentials?.[1]?.trim() ?? '');
    // Compared in constant time, so the answer's timing tells nothing about how much of a guess was right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return c.json(openAIError('Incorrect or missing API key: send Authorization: Bearer <key>.', { code: 'invalid_api_key' }), 401);
    }
    return next();
  };
}

/**
 * Answers 415 to a POST whose body is not declared `application/json`. A web page may send `text/plain`,
 * `application/x-www-form-urlencoded` or `multipart/form-data` to any origin without asking first (no CORS
 * preflight); were such a body read as JSON, any page a user visits could spend the operator's tokens (the hole
 * FastAPI closed as CVE-2021-32677). `application/json` from another origin needs a preflight, which CORS decides.
 */
export function jsonOnly(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') return next();
    return c.json(
      openAIError(`The request body must be JSON, sent with Content-Type: application/json (got ${type === '' ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))}).`, {
        code: 'unsupported_media_type',
      }),
      415,
    );
  };
}

/** Answers 413 for a body over `limit` bytes. */
export function bodyLimitCheck(limit: number): MiddlewareHandler {
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

/** Answers 503 (and closes the connection) once a shutdown has begun: the answers in flight are finishing. */
export function refuseWhileShuttingDown(lifecycle: Lifecycle): MiddlewareHandler {
  return async (c, next) => {
    if (!lifecycle.shuttingDown) return next();
    c.header('connection', 'close');
    c.header('retry-after', '1');
    return c.json(openAIError('The server is shutting down; try again shortly.', { type: 'server_error', code: 'server_shutting_down' }), 503);
  };
}
