// A folder of built files served on 127.0.0.1 for the browser specs: a page and its scripts, nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ico': 'image/x-icon',
};

export interface StaticServer {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`, the page's origin. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Serves `folder` on 127.0.0.1, uncached (each test's page must fetch what it loads): `/` is index.html; a path
 * outside the folder, a missing file or a type not listed above is a 404.
 */
export async function serveFolder(folder: string): Promise<StaticServer> {
  const base = resolve(folder);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = join(base, path === '/' ? 'index.html' : path);
    const type = CONTENT_TYPES[extname(file)];
    if (!file.startsWith(base + '/') || type === undefined || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}
