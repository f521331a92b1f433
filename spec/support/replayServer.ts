// A local HTTP server replaying recorded SSE transcripts (spec/fixtures/sse) byte for byte to the real SDK
// clients, with the faults real providers show: blocks split at any byte (inside a UTF-8 character too), delays,
// a socket dropped mid-stream, a provider that stalls (before its headers, or mid-stream), HTTP error answers (with
// their headers: a 429's retry-after). It records each request and when the client went away. With `corsOrigin` a
// page on that origin may call it (the browser specs): it answers the preflights itself.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

export const FIXTURES = resolve(__dirname, '../fixtures/sse');

/** A fixture's bytes. */
export function fixture(name: string): Buffer {
  return readFileSync(resolve(FIXTURES, name));
}

/** SSE blocks, each with its terminating blank line, as bytes. */
export function blocksOf(transcript: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let start = 0;
  for (let index = transcript.indexOf('\n\n'); index !== -1; index = transcript.indexOf('\n\n', start)) {
    blocks.push(transcript.subarray(start, index + 2));
    start = index + 2;
  }
  if (start < transcript.length) blocks.push(transcript.subarray(start));
  return blocks;
}

/** An OpenAI Chat Completions chunk whose delta carries `content`, for transcripts built with {@link sse}. */
export function chatChunk(content: string) {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

/** `count` distinct words, each with its space: `w0 `, `w1 `, ... */
export function numberedWords(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `w${index} `);
}

/** Builds a transcript: OpenAI style (data only) or named events (Anthropic, Responses). */
export function sse(events: readonly (unknown | { event: string; data: unknown })[], options: { done?: boolean } = {}): Buffer {
  const text = events
    .map((entry) => {
      if (entry !== null && typeof entry === 'object' && 'event' in entry && 'data' in entry) {
        const { event, data } = entry as { event: string; data: unknown };
        return `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
      }
      return `data: ${typeof entry === 'string' ? entry : JSON.stringify(entry)}\n\n`;
    })
    .join('');
  return Buffer.from(text + (options.done ? 'data: [DONE]\n\n' : ''), 'utf8');
}

/** How to answer one request. */
export interface ReplayPlan {
  /** A file in spec/fixtures/sse, or the transcript itself. */
  readonly transcript?: string | Buffer;
  /** Answer with this HTTP status and JSON body instead of a stream. */
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds before each block after the first. */
  readonly delayMs?: number;
  /** Write the transcript in pieces cut at these byte offsets instead of one block per write. */
  readonly splitAt?: readonly number[];
  /**
   * Destroy the socket once this many blocks are written (with `delayMs`, that long after the last, when the next
   * block would have come: a browser may drop what it received with the failure when both come at once).
   */
  readonly dropAfterBlocks?: number;
  /** Never answer: no status line, no headers, the request held open until the client goes away (a stalled provider). */
  readonly holdBeforeHeaders?: boolean;
  /**
   * Send the headers and this many blocks (0: only the headers), then hold the response open, sending nothing
   * more, until the client goes away (a stream that stalls). No timer: nothing is left pending when the client
   * leaves.
   */
  readonly holdAfterBlocks?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  readonly receivedAt: number;
  /** Whole blocks written so far. */
  blocksSent: number;
  /** The response was ended normally. */
  ended: boolean;
  /** When the client closed the connection before the response ended (performance.now()). */
  disconnectedAt?: number;
  /** Settles when the connection of this request has closed, however. */
  readonly closed: Promise<void>;
}

export interface ReplayServer {
  readonly url: string;
  /** baseURL for `new OpenAI({ baseURL })`. */
  readonly openAIBaseURL: string;
  /** baseURL for `new Anthropic({ baseURL })` (the SDK adds /v1 itself). */
  readonly anthropicBaseURL: string;
  readonly requests: RecordedRequest[];
  /** Queues plans; each request takes the next one. */
  plan(...plans: (ReplayPlan | string)[]): void;
  /** Drops the plans no request has taken (a call aborted before it was sent). */
  clearPlans(): void;
  close(): Promise<void>;
}

/** Options of {@link startReplayServer}. */
export interface ReplayServerOptions {
  /**
   * A page origin allowed to call the server: every answer names it in `access-control-allow-origin`, and an
   * `OPTIONS` preflight is answered at once, neither recorded nor taking a plan (a browser may or may not send one,
   * as its preflight cache says).
   */
  readonly corsOrigin?: string;
}

export async function startReplayServer(options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const queue: ReplayPlan[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const { corsOrigin } = options;

  const server: Server = createServer((request, response) => {
    if (corsOrigin !== undefined) {
      response.setHeader('access-control-allow-origin', corsOrigin);
      if (request.method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '',
        });
        response.end();
        return;
      }
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let markClosed!: () => void;
      const record: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: parseBody(Buffer.concat(chunks)),
        receivedAt: performance.now(),
        blocksSent: 0,
        ended: false,
        closed: new Promise((resolvePromise) => (markClosed = resolvePromise)),
      };
      requests.push(record);
      response.on('close', () => {
        if (!record.ended) record.disconnectedAt = performance.now();
        markClosed();
      });
      const plan = queue.shift();
      if (!plan) {
        respondJson(response, 500, { error: { message: 'replay server: no plan queued for this request', type: 'server_error' } });
        record.ended = true;
        return;
      }
      answer(plan, record, response);
    });
  });

  function answer(plan: ReplayPlan, record: RecordedRequest, response: ServerResponse): void {
    if (plan.holdBeforeHeaders) return;
    if (plan.status !== undefined && plan.status !== 200) {
      respondJson(response, plan.status, plan.body ?? { error: { message: `HTTP ${plan.status}` } }, plan.headers);
      record.ended = true;
      return;
    }
    const transcript = typeof plan.transcript === 'string' ? fixture(plan.transcript) : (plan.transcript ?? Buffer.alloc(0));
    const blocks = blocksOf(transcript);
    // Byte offsets where each block ends, to count whole blocks whatever the pieces.
    const blockEnds = blocks.reduce<number[]>((ends, block) => [...ends, (ends.at(-1) ?? 0) + block.length], []);
    const all = plan.splitAt ? cut(transcript, plan.splitAt) : blocks;
    const pieces = plan.holdAfterBlocks === undefined ? all : blocks.slice(0, plan.holdAfterBlocks);
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...plan.headers });
    response.flushHeaders();
    let written = 0;
    const send = (index: number) => {
      if (response.destroyed || record.disconnectedAt !== undefined) return;
      if (index >= pieces.length) {
        if (plan.holdAfterBlocks !== undefined) return;
        record.ended = true;
        response.end();
        return;
      }
      const piece = pieces[index]!;
      written += piece.length;
      const sentBlocks = blockEnds.filter((end) => end <= written).length;
      response.write(piece, () => {
        record.blocksSent = Math.max(record.blocksSent, sentBlocks);
        const dropped = plan.dropAfterBlocks !== undefined && sentBlocks >= plan.dropAfterBlocks;
        const next = dropped ? () => response.socket?.destroy() : () => send(index + 1);
        if (plan.delayMs) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            next();
          }, plan.delayMs);
          timers.add(timer);
        } else {
          next();
        }
      });
    };
    send(0);
  }

  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openAIBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    requests,
    plan: (...plans) => queue.push(...plans.map((entry) => (typeof entry === 'string' ? { transcript: entry } : entry))),
    clearPlans: () => {
      queue.length = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolvePromise, reject) => server.close((error) => (error ? reject(error) : resolvePromise())));
    },
  };
}

function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.filter((offset) => offset > 0 && offset < bytes.length))].sort((a, b) => a - b);
  return [0, ...points].map((start, index) => bytes.subarray(start, points[index] ?? bytes.length));
}

function respondJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function parseBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('utf8');
  }
}
