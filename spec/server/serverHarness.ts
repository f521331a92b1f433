// The guardrails server on 127.0.0.1 for the server specs: started on a free port, called with the real openai
// client, and with raw HTTP for the requests a client library would never send.
import { request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import OpenAI from 'openai';
import { createApp } from 'rxguardrails/server';

/** A folder of configs: strict and support (and folders that must not be served). */
export const CONFIGS = 'spec/fixtures/server-configs';

export interface Running {
  readonly app: Hono;
  readonly server: ServerType;
  readonly url: string;
  readonly client: OpenAI;
  /** Settles once every connection the server accepted so far has closed. */
  connectionsClosed(): Promise<void>;
  close(): Promise<void>;
}

export async function start(options: Partial<Parameters<typeof createApp>[0]> = {}): Promise<Running> {
  const app = await createApp({ configDir: CONFIGS, ...options });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  const closings: Promise<void>[] = [];
  server.on('connection', (socket: Socket) => closings.push(new Promise((resolve) => socket.once('close', () => resolve()))));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    server,
    url,
    client: new OpenAI({ apiKey: options.apiKey ?? 'none', baseURL: `${url}/v1`, maxRetries: 0 }),
    connectionsClosed: async () => {
      await Promise.all(closings);
    },
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const ask = (content: string) => [{ role: 'user' as const, content }];

/**
 * A POST to /v1/chat/completions on a connection of its own, as raw HTTP: one piece goes with its content-length,
 * several as transfer-encoding: chunked (what Node sends for a body written in pieces without a content-length).
 */
export function rawPost(server: ServerType, pieces: readonly string[]): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  const length = pieces.length === 1 ? { 'content-length': Buffer.byteLength(pieces[0]!) } : {};
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...length } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => (body += piece));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

/** The SSE frames of a raw answer, without their blank-line separators. */
export const framesOf = (raw: string): string[] => raw.split('\n\n').filter(Boolean);
