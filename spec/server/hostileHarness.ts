// The real `rxguardrails server` (the built bin) as a child process, and the hostile peers the
// spec/server/hostile*.spec.ts specs set on it: clients that never read, raw HTTP a client library would not send,
// a fast upstream with a long answer. What the process costs is read from /proc (its RSS, the connections it holds),
// so the specs see the server as an operator would, not through createApp's internals.
//
// The specs wait for events and conditions, never for time: `until()` polls a condition bounded by a deadline. Each
// deadline is generous for a loaded 2-core machine; where a spec also bounds a time, the old behaviour missed that
// bound by far (the specs' comments give what was measured).
//
// To check that a spec fails on an older build, point RXGUARDRAILS_SPEC_BIN at that build's dist/esm/cli/bin.js.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, process.env.RXGUARDRAILS_SPEC_BIN ?? 'dist/esm/cli/bin.js');

/** How long a process that ignored SIGTERM gets before SIGKILL, in stop(): only a broken build ever waits for it. */
const KILL_AFTER_MS = 15_000;

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly port: number;
  /** What the process printed so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Settles with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr (or stdout) contains `text`; rejects when the process exits first or after `deadlineMs`. */
  waitFor(text: string, stream?: 'stdout' | 'stderr', deadlineMs?: number): Promise<void>;
  /** Whether the process is still running. */
  running(): boolean;
  /** SIGTERM, then SIGKILL if it is still running KILL_AFTER_MS later; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the bin with `args`, with no colours and no API keys unless `env` gives them. Resolves once it listens. */
export async function startBin(args: readonly string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', RXGUARDRAILS_API_KEY: '', RXGUARDRAILS_UPSTREAM_TIMEOUT_MS: '', ...env },
  });
  const output = { stdout: '', stderr: '' };
  let alive = true;
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('close', (code) => {
      alive = false;
      resolveExit(code);
    }),
  );
  child.stdout.setEncoding('utf8').on('data', (piece: string) => (output.stdout += piece));
  child.stderr.setEncoding('utf8').on('data', (piece: string) => (output.stderr += piece));
  const waitFor = (text: string, stream: 'stdout' | 'stderr' = 'stderr', deadlineMs = 10_000) =>
    until(() => output[stream].includes(text) || !alive, `${stream} to contain ${JSON.stringify(text)}`, deadlineMs).then(() => {
      if (!output[stream].includes(text)) throw new Error(`the server exited before printing ${JSON.stringify(text)}; stdout: ${output.stdout}; stderr: ${output.stderr}`);
    });
  try {
    await waitFor('listening on', 'stdout');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const url = /listening on (http:\/\/\S+)/.exec(output.stdout)![1]!;
  return {
    child,
    url,
    port: Number(new URL(url).port),
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    exited,
    waitFor,
    running: () => alive,
    stop: async (signal = 'SIGTERM') => {
      if (!alive) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Resolves once `condition` holds, checked every few ms; rejects naming `what` after `deadlineMs`. */
export async function until(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > deadlineMs) throw new Error(`gave up after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolveTick) => setTimeout(resolveTick, 5));
  }
}

export { heldConnections, memoryBytes, rssBytes, unreadBytes, unreadFrom } from '../support/processProbe.js';

/** Config folders made for a run (one per entry: its config.yml), in a temporary folder of configs. */
export function configFolders(configs: Record<string, string>): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rxguardrails-hostile-'));
  for (const [id, yaml] of Object.entries(configs)) {
    mkdirSync(join(dir, id));
    writeFileSync(join(dir, id, 'config.yml'), yaml);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const ask = (content: string) => [{ role: 'user' as const, content }];

/** A chat completion request body. */
export const chatBody = (content: string, more: Record<string, unknown> = {}) => JSON.stringify({ model: 'm', messages: ask(content), ...more });

/** POSTs a JSON body to /v1/chat/completions (a fresh connection each time: no pool shared between specs). */
export function postChat(url: string, body: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close', ...headers }, body, ...(signal ? { signal } : {}) });
}

/** What a client read from a streamed answer. */
export interface StreamRead {
  readonly status: number;
  readonly headers: Headers;
  /** The SSE frames, without their blank-line separators. */
  readonly frames: string[];
  /** The content of the chunk frames, joined. */
  readonly text: string;
  /** The last frame is `data: [DONE]`. */
  readonly done: boolean;
  /** Set when the connection failed before the answer ended (a reset, a process gone). */
  readonly broken?: string;
}

/** A streaming request in flight: its first token and its end, as promises the spec awaits. */
export interface OpenStream {
  /** Resolves at the first frame with non-empty content (rejects if the answer ends first). */
  readonly firstToken: Promise<void>;
  readonly result: Promise<StreamRead>;
}

/**
 * Sends a streaming request and reads the answer to its end, reporting its first token on the way. With
 * `deadlineMs`, a request still unanswered or unfinished then is aborted, and `broken` says so.
 */
export function openStream(url: string, body: string, headers: Record<string, string> = {}, deadlineMs?: number): OpenStream {
  let tokenSeen!: () => void;
  let noToken!: (error: Error) => void;
  const firstToken = new Promise<void>((resolveToken, rejectToken) => {
    tokenSeen = resolveToken;
    noToken = rejectToken;
  });
  firstToken.catch(() => undefined); // a spec that does not wait for it must not see an unhandled rejection
  const result = (async (): Promise<StreamRead> => {
    let raw = '';
    let response: Response | undefined;
    let broken: string | undefined;
    try {
      response = await postChat(url, body, headers, deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs));
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      let seen = false;
      for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
        const text = decoder.decode(piece.value, { stream: true });
        // Only the new text is searched (with the tail before it, where a frame may have been cut): a long answer
        // searched whole on every piece would make this client slower than the server.
        if (!seen && /"content":"[^"]/.test(raw.slice(-20) + text)) {
          seen = true;
          tokenSeen();
        }
        raw += text;
      }
    } catch (error) {
      broken = String((error as Error).cause ?? error);
    }
    const frames = framesOf(raw);
    const read = { status: response?.status ?? 0, headers: response?.headers ?? new Headers(), frames, text: contentOf(frames), done: frames.at(-1) === 'data: [DONE]' };
    noToken(new Error(`the answer ended before its first token: ${raw.slice(0, 500)}`));
    return broken === undefined ? read : { ...read, broken };
  })();
  return { firstToken, result };
}

/** The SSE frames of a raw answer, without their blank-line separators. */
export const framesOf = (raw: string): string[] => raw.split('\n\n').filter(Boolean);

/** The content of the `chat.completion.chunk` frames, joined. */
export function contentOf(frames: readonly string[]): string {
  return frames
    .filter((frame) => frame.startsWith('data: {"id"'))
    .map((frame) => (JSON.parse(frame.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
    .join('');
}

/** A raw HTTP/1.1 POST of a chat completion, as bytes: what a client library would send, or would never send. */
export function rawChatRequest(port: number, body: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `POST /v1/chat/completions HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A client on a raw socket that sends a request and then never reads: the server's writes pile up against it.
 * Resolves once the request is written. The client never learns that the server dropped it (the server's FIN waits
 * behind the bytes it has not read): ask the server's side (heldConnections).
 */
export function nonReader(port: number, request: string): Promise<Socket> {
  return new Promise((resolveClient, reject) => {
    const socket = connect(port, '127.0.0.1');
    // Paused: Node reads nothing from the kernel, so the receive window fills and stays full.
    socket.pause();
    socket.on('error', () => undefined); // a reset is one way the server may drop it
    socket.once('connect', () => socket.write(request, () => resolveClient(socket)));
    socket.once('error', reject);
  });
}

/** A raw exchange on its own socket: everything the server sent, and when it ended the connection. */
export interface RawExchange {
  readonly raw: string;
  /** performance.now() when `data: [DONE]` arrived, if it did. */
  readonly doneAt?: number;
  /** performance.now() when the server ended the connection ('end' or 'close'). */
  readonly endedAt: number;
}

/** Sends `request` on a fresh socket, reads until the server ends the connection or `deadlineMs` passes (then destroys it). */
export function rawExchange(port: number, request: string, deadlineMs: number): Promise<RawExchange & { timedOut: boolean }> {
  return new Promise((resolveExchange, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let raw = '';
    let doneAt: number | undefined;
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveExchange({ raw, endedAt: performance.now(), timedOut, ...(doneAt === undefined ? {} : { doneAt }) });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    socket.setEncoding('utf8');
    socket.on('data', (piece: string) => {
      raw += piece;
      if (doneAt === undefined && raw.includes('data: [DONE]')) doneAt = performance.now();
    });
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('error', (error) => (settled ? undefined : raw === '' ? reject(error) : finish(false)));
  });
}

/** GET on a connection of its own (no keep-alive): the status, or the error code when the connection failed (ECONNREFUSED). */
export function getOnce(url: string, timeoutMs = 5_000): Promise<{ status?: number; error?: string }> {
  return new Promise((resolveGet) => {
    const request = httpRequest(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolveGet({ status: response.statusCode! }));
      response.on('error', (error: NodeJS.ErrnoException) => resolveGet({ error: error.code ?? error.message }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolveGet({ error: error.code ?? error.message }));
    request.end();
  });
}

/** How long GET /health takes to answer, in ms; rejects if it does not answer 200 within `deadlineMs`. */
export async function healthTime(url: string, deadlineMs: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/health`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(deadlineMs) });
  await response.text();
  if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
  return performance.now() - started;
}

/**
 * A model provider on 127.0.0.1 that streams a long OpenAI chat answer as fast as the reader takes it (its writes
 * wait for 'drain'), generated on the fly: `words` deltas of `word`, or `max_tokens` of them when the request sets
 * fewer. It counts the requests whose connection closed before the answer ended (the guardrails server stopped the
 * answer).
 */
export interface LongUpstream {
  readonly baseURL: string;
  readonly port: number;
  readonly requests: number;
  readonly cutShort: number;
  readonly completed: number;
  close(): Promise<void>;
}

/** How fast {@link startLongUpstream} streams. */
export interface UpstreamPace {
  /** Bytes of SSE written at a time (whole deltas). @default 65536 */
  readonly batchBytes?: number;
  /** Milliseconds between batches; 0 writes the next batch as soon as the last one was taken. @default 0 */
  readonly intervalMs?: number;
}

export async function startLongUpstream(words: number, word = 'lorem ', pace: UpstreamPace = {}): Promise<LongUpstream> {
  const { batchBytes = 65_536, intervalMs = 0 } = pace;
  const state = { requests: 0, cutShort: 0, completed: 0 };
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-upstream', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const tokenChunk = chunk({ content: word });
  // Deltas are written in batches, as a provider's TCP segments bring several at once.
  const batch = tokenChunk.repeat(Math.max(1, Math.floor(batchBytes / tokenChunk.length)));
  const perBatch = batch.length / tokenChunk.length;
  const server: Server = createServer((request, response: ServerResponse) => {
    let body = '';
    request.setEncoding('utf8').on('data', (piece: string) => (body += piece));
    request.on('end', () => {
      state.requests++;
      const { max_tokens: maxTokens } = JSON.parse(body) as { max_tokens?: number };
      let ended = false;
      response.on('close', () => {
        if (!ended) state.cutShort++;
      });
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      response.write(chunk({ role: 'assistant', content: '', refusal: null }));
      let left = Math.min(words, maxTokens ?? words);
      const pump = () => {
        while (left > 0 && !response.destroyed) {
          const count = Math.min(left, perBatch);
          left -= count;
          const next = () => (intervalMs > 0 ? setTimeout(pump, intervalMs) : pump());
          if (!response.write(count === perBatch ? batch : tokenChunk.repeat(count))) return void response.once('drain', next);
          if (intervalMs > 0) return void setTimeout(pump, intervalMs);
        }
        if (response.destroyed) return;
        ended = true;
        state.completed++;
        response.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
      };
      pump();
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    get requests() {
      return state.requests;
    },
    get cutShort() {
      return state.cutShort;
    },
    get completed() {
      return state.completed;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
