// Internal: `GET /`, the chat page (createApp's `chatUi`).
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { chatPage } from './chatPage.js';

/**
 * The page's response headers. The Content-Security-Policy allows the page's own inline script and style (by hash)
 * and requests to this server, nothing else: no other origin, no plugin, no frame, no form target. The page is
 * revalidated on each load (`no-cache` with an ETag): it is small, and a server upgrade must show its new page.
 */
function pageHeaders(): Record<string, string> {
  const hashes = (list: readonly string[]) => (list.length === 0 ? "'none'" : list.map((hash) => `'${hash}'`).join(' '));
  const policy = [
    "default-src 'none'",
    `script-src ${hashes(chatPage.scriptHashes)}`,
    `style-src ${hashes(chatPage.styleHashes)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': policy,
    'cache-control': 'no-cache',
    etag: `"${createHash('sha256').update(chatPage.html).digest('base64url').slice(0, 27)}"`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** The handler of `GET /`: the page, or a 304 when the browser holds this version. */
export function chatPageRoute(): (c: Context) => Response {
  const headers = pageHeaders();
  return (c) => {
    const match = c.req.header('if-none-match');
    if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === headers['etag'])) {
      return new Response(null, { status: 304, headers: { etag: headers['etag']!, 'cache-control': headers['cache-control']! } });
    }
    return new Response(c.req.method === 'HEAD' ? null : chatPage.html, { status: 200, headers });
  };
}
