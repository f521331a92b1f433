// Internal: the SSE writer, `chat.completion.chunk` frames for a request with `stream: true`.
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Observable, Subscription } from 'rxjs';
import type { UsageTracker } from '../usage/UsageTracker.js';
import { errorPayload } from './errorPayload.js';
import type { Lifecycle } from './lifecycle.js';
import { pythonJsonDumps } from '../internal/pythonJson.js';
import { ChunkFramer, type CompletionIds, DONE_FRAME, openAIError, openAIUsage } from './openAIProtocol.js';

// No `connection` header: Node keeps the connection alive or closes it as the request asked (`Connection: close`).
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

/**
 * Where the frames go, and how the writer learns of a client gone: Node's response under @hono/node-server (its
 * 'close'), else the request's signal. The signal is not asked for under @hono/node-server: reading it makes the
 * adapter build the whole web Request.
 */
export type SseTarget = { readonly outgoing: ServerResponse; readonly signal?: undefined } | { readonly outgoing?: undefined; readonly signal: AbortSignal };

/** How much a client that does not read may cost. */
export interface SseLimits {
  /** Bytes of frames waiting for a client that does not read, at most; beyond it the answer is stopped. */
  readonly maxBufferedBytes: number;
  /** How long a client may leave frames unread before the answer is stopped, in ms. */
  readonly stallTimeoutMs: number;
}

/**
 * How long the status may wait for the answer's first token: a failure within it (a provider's 429 or 504) is
 * answered with its own status; after it, the stream opens (200, the role frame) so that a slow answer (output rails
 * checking the whole answer first) keeps clients and proxies waiting on an open response, not on nothing.
 */
const STATUS_WAIT_MS = 1_000;

/** What {@link sseResponse} needs besides the tokens. */
export interface SseResponseOptions {
  readonly ids: CompletionIds;
  /** The tracker the answer's LLM calls go to, when the request asked for `stream_options.include_usage`. */
  readonly usage?: UsageTracker;
  /** Where an unexpected failure goes (it is sent as a `server_error` frame). */
  readonly onError: (error: unknown) => void;
  readonly target: SseTarget;
  readonly lifecycle: Lifecycle;
  readonly limits: SseLimits;
}

/** Where the frames of one response go: the status and headers once, then text, then one end. */
interface FrameSink {
  start(status: number, headers: Record<string, string>): void;
  /** Writes; answers the bytes that were waiting for the client before this write, and now (0 when it keeps up). */
  write(text: string): { readonly before: number; readonly after: number };
  end(text: string): void;
  /** Called when the client has read what was waiting. */
  onDrain(listener: () => void): void;
  /** Drops the connection: for a client that stopped reading, an end frame would wait forever. */
  destroy(): void;
}

/**
 * Streams the answer as SSE: a role frame, one frame per token, a final frame with `finish_reason`, a usage frame
 * when asked, then `data: [DONE]`; a failure is `data: {"error": ...}` (see {@link errorPayload}) then
 * `data: [DONE]`. The answer is subscribed here, and nowhere else.
 *
 * Nothing is sent before the answer's first token, its end, or one second: a failure before then (a provider's 429
 * or 504, a 500) is answered with its own HTTP status as OpenAI-shaped JSON, not as a 200 stream. A rail violation
 * is NeMo's error frame in a 200 stream, as NeMo sends it.
 *
 * Backpressure: frames a client has not read are bounded by `limits`. Past `maxBufferedBytes`, or after
 * `stallTimeoutMs` with frames unread, the answer is unsubscribed (which aborts the model request and the rails)
 * and the connection dropped, so a client that reads nothing costs a bounded amount of memory and no model time.
 *
 * Under @hono/node-server the frames are written straight to Node's response (no web ReadableStream per response:
 * about a third of the server's time under load), unless middleware set headers for this response (CORS): Hono
 * merges those into the Response it is given, which a direct write bypasses. Then, and anywhere else
 * (app.request(), other runtimes), through a ReadableStream whose queue carries the backpressure. Either way, a
 * client that goes away unsubscribes the answer.
 */
export function sseResponse(tokens$: Observable<string>, options: SseResponseOptions): Response | Promise<Response> {
  const { target } = options;
  if (target.outgoing) {
    const { outgoing } = target;
    stream(tokens$, options, nodeSink(outgoing), (gone) => outgoing.on('close', gone));
    return RESPONSE_ALREADY_SENT;
  }
  return new Promise<Response>((resolve) => {
    let gone: () => void = () => undefined;
    const sink = webSink(resolve, options.limits, () => gone());
    stream(tokens$, options, sink, (listener) => {
      gone = listener;
      target.signal.addEventListener('abort', listener, { once: true });
    });
  });
}

function stream(tokens$: Observable<string>, options: SseResponseOptions, sink: FrameSink, onClientGone: (stop: () => void) => void): void {
  const { ids, usage, onError, lifecycle, limits } = options;
  const framer = new ChunkFramer(ids, usage !== undefined);
  let subscription: Subscription | undefined;
  let started = false;
  let open = true;
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  // Frames of one synchronous burst (a model that answers at once, a released window) go out in one write; a
  // token that arrives alone is written at the end of its task, so no token waits for another.
  let pending = '';

  const finished = () => {
    open = false;
    clearTimeout(stallTimer);
    clearTimeout(statusTimer);
    untrack();
    subscription?.unsubscribe();
  };
  const abandon = () => {
    if (!open) return;
    finished();
    sink.destroy();
  };
  const begin = () => {
    started = true;
    clearTimeout(statusTimer);
    sink.start(200, { ...closing(lifecycle), ...SSE_HEADERS });
    pending = framer.role() + pending;
  };
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (!open || pending === '') return;
    const text = pending;
    pending = '';
    // The bound is on what the client left unread before this write: one large burst (a released window, a whole
    // answer) to a client that keeps up is not a reason to stop.
    const { before, after } = sink.write(text);
    if (before > limits.maxBufferedBytes) abandon();
    else if (after > 0) stallTimer ??= setTimeout(abandon, limits.stallTimeoutMs);
  };
  const send = (frame: string) => {
    if (!open) return;
    if (!started) begin();
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
    pending += frame;
  };
  const close = (last: string) => {
    if (!open) return;
    if (!started) begin();
    const text = pending + last + DONE_FRAME;
    pending = '';
    finished();
    sink.end(text);
  };
  const fail = (error: unknown) => {
    const { payload, status, ...more } = errorPayload(error, onError);
    if (started || status === 200) return close(`data: ${payload}\n\n`);
    // Nothing sent yet: the failure is the response, with its own status.
    finished();
    sink.start(status, { ...closing(lifecycle), 'content-type': 'application/json', ...(more.retryAfter === undefined ? {} : { 'retry-after': String(more.retryAfter) }) });
    sink.end(payload);
  };

  sink.onDrain(() => {
    clearTimeout(stallTimer);
    stallTimer = undefined;
  });
  const untrack = lifecycle.track({
    stop: (reason) => {
      if (!open) return;
      const payload = pythonJsonDumps(shutdownError(reason));
      if (started) return close(`data: ${payload}\n\n`);
      finished();
      sink.start(503, { ...closing(lifecycle), 'content-type': 'application/json' });
      sink.end(payload);
    },
  });
  onClientGone(() => {
    if (open) finished();
  });
  statusTimer = setTimeout(() => {
    if (open && !started) {
      begin();
      flush();
    }
  }, STATUS_WAIT_MS);
  subscription = tokens$.subscribe({
    next: (token) => send(framer.token(token)),
    error: fail,
    complete: () => close(framer.finish() + (usage ? framer.usage(openAIUsage(usage.snapshot().totals)) : '')),
  });
  if (!open) subscription.unsubscribe();
}

/** What a client is told when a shutdown stops its answer (a frame in a stream, else a 503 body). */
export function shutdownError(reason: string): ReturnType<typeof openAIError> {
  return openAIError(reason, { type: 'server_error', code: 'server_shutting_down' });
}

/** `Connection: close` while the server shuts down, so the connection does not outlive the answer. */
function closing(lifecycle: Lifecycle): Record<string, string> {
  return lifecycle.shuttingDown ? { connection: 'close' } : {};
}

function nodeSink(outgoing: ServerResponse): FrameSink {
  return {
    start: (status, headers) => outgoing.writeHead(status, headers),
    // Node buffers what the socket does not take; `write` answering false says the client is behind.
    write: (text) => {
      const before = outgoing.writableLength;
      return { before, after: outgoing.write(text) ? 0 : outgoing.writableLength };
    },
    end: (text) => outgoing.end(text),
    onDrain: (listener) => outgoing.on('drain', listener),
    destroy: () => outgoing.destroy(),
  };
}

/**
 * A sink on a web ReadableStream: the Response is made once the status is known, then (for a stream) fed as the
 * client pulls; a JSON answer is one body. `gone` hears the body cancelled by the client.
 */
function webSink(respond: (response: Response) => void, limits: SseLimits, gone: () => void): FrameSink {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let drained: (() => void) | undefined;
  let json: { status: number; headers: Record<string, string> } | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (created) => {
        controller = created;
      },
      pull: () => drained?.(),
      cancel: gone,
    },
    new ByteLengthQueuingStrategy({ highWaterMark: Math.min(limits.maxBufferedBytes, 64 * 1024) }),
  );
  return {
    start: (status, headers) => {
      if (headers['content-type'] === 'application/json') json = { status, headers };
      else respond(new Response(body, { status, headers }));
    },
    write: (text) => {
      const before = Math.max(0, -(controller.desiredSize ?? 0));
      controller.enqueue(encoder.encode(text));
      return { before, after: Math.max(0, -(controller.desiredSize ?? 0)) };
    },
    end: (text) => {
      if (json) return respond(new Response(text, json));
      controller.enqueue(encoder.encode(text));
      controller.close();
    },
    onDrain: (listener) => {
      drained = listener;
    },
    destroy: () => controller.error(new Error('the client stopped reading')),
  };
}
