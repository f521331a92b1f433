// Internal: the engines' HTTP client in the server: Node's own (node:http, node:https) over keep-alive connections,
// for the OpenAI-compatible engines the config makes itself (fetchOpenAIChat).
//
// Why not fetch: Node's fetch (undici) makes a Request, a Response, Headers and web streams for every call (the
// request body as a stream, teed once; the response body through a Node stream into a byte stream), and its code is
// large enough that the JIT is still at it after thousands of requests. Measured in the server benchmark's engine
// path (50 clients, a 46-token answer in one burst): about 2.1 ms of server CPU per request with fetch, 1.35 ms with
// this, the same relay of the same upstream 0.45 ms. Why not undici's own request API: the undici package that
// runs on Node 20 is the 6.x line (7.x declares Node >= 20.18, 8.x Node >= 22); Node's client is the one the
// platform keeps, and the one the benchmark's relay uses.
//
// What fetch did that is kept: connections are reused (keep-alive, idle ones closed after IDLE_SOCKET_MS, before
// the usual 5 s of servers, as undici does) and never hold the process open; an abort closes the connection; a body
// is read only as asked (Node stops reading the socket past its buffer, so TCP pushes back on the server); a
// connection dropped mid-body fails the read with an error whose cause is Node's ECONNRESET (a dropped connection
// to toProviderError, as undici's `terminated` is). What it did that is not: no `accept-encoding` is sent (the
// answer comes uncompressed: an SSE stream of small frames, on a connection to a nearby server, gains little).
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { StreamingPost, StreamingPostAnswer } from '../sources/streamingPost.js';

/** How long an idle connection is kept for the next request. */
const IDLE_SOCKET_MS = 4_000;

/** A {@link StreamingPost} on Node's HTTP client, with keep-alive connection pools of its own. */
export function nodeStreamingPost(): StreamingPost {
  const http = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const https = new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  // The URL's parts, read once per URL (an engine calls one): Node's client would parse the string per request.
  let last: { url: string; secure: boolean; host: string; port: string; path: string } | undefined;
  const partsOf = (url: string) => {
    if (last?.url !== url) {
      const { protocol, hostname, port, pathname, search } = new URL(url);
      last = { url, secure: protocol === 'https:', host: hostname.replace(/^\[|\]$/g, ''), port, path: pathname + search };
    }
    return last;
  };
  return (url, { headers, body, signal }) =>
    new Promise<StreamingPostAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const { secure, host, port, path } = partsOf(url);
      const options = {
        method: 'POST',
        host,
        ...(port ? { port } : {}),
        path,
        headers: { 'user-agent': 'rxguardrails', ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: secure ? https : http,
      };
      const request = (secure ? httpsRequest : httpRequest)(options, (response) => {
        // Past the end of the answer the connection is the pool's: an abort then must not close it.
        response.once('end', () => signal.removeEventListener('abort', abort));
        resolve(answerOf(response));
      });
      // Our own abort listener rather than the client's `signal` option, which watches the request's end with a
      // stream.finished() of its own per request.
      const abort = () => request.destroy(Object.assign(new Error('This operation was aborted'), { name: 'AbortError', cause: signal.reason }));
      signal.addEventListener('abort', abort, { once: true });
      // Kept for the request's whole life: after the answer came, a failure is the body's (answerOf hears it there).
      request.on('error', reject);
      request.end(body);
    });
}

function answerOf(response: IncomingMessage): StreamingPostAnswer {
  let ended = false;
  let failure: Error | undefined;
  let waiting: { resolve: (bytes: Uint8Array | undefined) => void; reject: (error: Error) => void } | undefined;
  const settle = () => {
    const waiter = waiting;
    if (waiter === undefined) return;
    if (failure) {
      waiting = undefined;
      return waiter.reject(failure);
    }
    const bytes = response.read() as Buffer | null;
    if (bytes !== null || ended) {
      waiting = undefined;
      waiter.resolve(bytes ?? undefined);
    }
  };
  response.on('readable', settle);
  response.on('end', () => {
    ended = true;
    settle();
  });
  const fail = (error?: Error) => {
    if (ended || failure) return;
    failure = error?.name === 'AbortError' ? error : new Error('the connection dropped before the answer ended', { cause: error ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' }) });
    settle();
  };
  response.on('error', fail);
  // A close before the end without an error (a socket destroyed under it) is a dropped connection all the same.
  response.on('close', () => fail());
  return {
    status: response.statusCode ?? 0,
    headers: {
      get: (name) => {
        const value = response.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    read: () =>
      new Promise<Uint8Array | undefined>((resolve, reject) => {
        waiting = { resolve, reject };
        settle();
      }),
    cancel: async () => {
      response.destroy();
    },
  };
}
