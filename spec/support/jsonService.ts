// A JSON service on 127.0.0.1 for the specs of rails that call one (NeMo's jailbreak classifier and heuristics
// server, a Presidio analyzer): it records each request (method, path, headers, parsed body, whether the client went
// away before the answer) and answers as the test says: a JSON value, a status, raw text, or never.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServiceRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** True once the client closed the connection before the service answered (an abort, a timeout). */
  closedEarly: boolean;
}

/** What the service answers a request with. */
export type ServiceAnswer =
  | { readonly json: unknown; readonly status?: number }
  | { readonly status: number; readonly text?: string }
  | { readonly text: string }
  | 'stall';

export interface JsonService {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: ServiceRequest[];
  /** Resolves when the n-th request (1-based) has arrived. */
  arrived(count: number): Promise<ServiceRequest>;
  /** Resolves when a request's client has gone away without its answer. */
  closed(request: ServiceRequest): Promise<void>;
  close(): Promise<void>;
}

/** Starts a service answering each request with `answer(request)`. */
export async function jsonService(answer: (request: ServiceRequest) => ServiceAnswer): Promise<JsonService> {
  const requests: ServiceRequest[] = [];
  const waiting: { count: number; resolve: (request: ServiceRequest) => void }[] = [];
  const closers = new Map<ServiceRequest, () => void>();
  const stalled = new Set<ServerResponse>();
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // kept as text
      }
      const request: ServiceRequest = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body, closedEarly: false };
      requests.push(request);
      response.on('close', () => {
        if (!response.writableFinished) {
          request.closedEarly = true;
          closers.get(request)?.();
        }
      });
      for (const waiter of waiting.filter((entry) => entry.count === requests.length)) waiter.resolve(request);
      const reply = answer(request);
      if (reply === 'stall') {
        stalled.add(response);
        return;
      }
      const status = 'status' in reply && reply.status !== undefined ? reply.status : 200;
      const text = 'json' in reply ? JSON.stringify(reply.json) : (reply.text ?? '');
      response.writeHead(status, { 'Content-Type': 'json' in reply ? 'application/json' : 'text/plain' });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    arrived: (count) =>
      requests.length >= count ? Promise.resolve(requests[count - 1]!) : new Promise((resolve) => waiting.push({ count, resolve })),
    closed: (request) => (request.closedEarly ? Promise.resolve() : new Promise((resolve) => closers.set(request, resolve))),
    close: async () => {
      for (const response of stalled) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
