// Internal: the SSE writer, `chat.completion.chunk` frames for a request with `stream: true`.
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Observable, Subscription } from 'rxjs';
import type { DemandGate } from '../sources/DemandGate.js';
import type { UsageTracker } from '../usage/UsageTracker.js';
import { errorPayload } from './errorPayload.js';
import type { GuardrailsFrame } from './guardrailsEvents.js';
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
  /** Failures reach the client without their detail, which goes to `onError` (see {@link errorPayload}). */
  readonly hideErrorDetail?: boolean;
  readonly target: SseTarget;
  readonly lifecycle: Lifecycle;
  readonly limits: SseLimits;
  /** The answer's demand: paused while the client is behind, so the model's stream is not read meanwhile. */
  readonly demand?: DemandGate;
}

/** Where the frames of one response go: the status and headers once, then text, then one end. */
interface FrameSink {
  start(status: number, headers: Record<string, string>): void;
  /** Writes; answers whether the client keeps up (false: it has not taken what was written yet). */
  write(text: string): boolean;
  end(text: string): void;
  /** Called when the client has taken what was written. */
  onDrain(listener: () => void): void;
  /** Called when the client has taken everything, end included (where that can be known). */
  onFinish?(listener: () => void): void;
  /** Drops the connection: for a client that stopped reading, an end frame would wait forever. */
  destroy(): void;
  /**
   * Runs `callback` once the frames of the current burst are all sent: Node's `process.nextTick`, which runs after
   * the promise callbacks queued meanwhile, so a provider's events that came in one network read (each delivered by
   * its own promise callback) go out in one socket write; elsewhere `queueMicrotask`.
   */
  defer(callback: () => void): void;
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
 * Backpressure: while a client has not taken the last write, `demand` is paused (the model's stream is not read:
 * the provider's response waits in its socket) and frames already on their way wait (and go out in one write when
 * the client has taken the last); past `maxBufferedBytes` of them, or after `stallTimeoutMs` without the client
 * taking anything, the answer is unsubscribed (which aborts the model request and the rails) and the connection
 * dropped. So a client that reads nothing holds at most what was in flight plus that bound, for at most that long;
 * a client that reads is never cut, however its answer arrives.
 *
 * Under @hono/node-server the frames are written straight to Node's response (no web ReadableStream per response:
 * about a third of the server's time under load), unless middleware set headers for this response (CORS): Hono
 * merges those into the Response it is given, which a direct write bypasses. Then, and anywhere else
 * (app.request(), other runtimes), through a ReadableStream whose queue carries the backpressure. Either way, a
 * client that goes away unsubscribes the answer.
 */
export function sseResponse(tokens$: Observable<string | GuardrailsFrame>, options: SseResponseOptions): Response | Promise<Response> {
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

function stream(tokens$: Observable<string | GuardrailsFrame>, options: SseResponseOptions, sink: FrameSink, onClientGone: (stop: () => void) => void): void {
  const { ids, usage, onError, hideErrorDetail = false, lifecycle, limits, demand } = options;
  const framer = new ChunkFramer(ids, usage !== undefined);
  let subscription: Subscription | undefined;
  let started = false;
  /** The answer is still subscribed. */
  let answering = true;
  /** The client has not yet taken the last write: new frames wait in `pending`, to go out in one write on drain. */
  let behind = false;
  /** The last frames are in `pending`, to be ended with once the client catches up. */
  let ending = false;
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  // Frames of one burst (a model that answers at once, a released window, a provider's events read at once) go out
  // in one write: one system call where a frame each cost one (the largest cost of a streamed answer). A token that
  // arrives alone is written at the end of its task, so no token waits for another.
  let pending = '';
  let flushQueued = false;

  const stopAnswer = () => {
    if (!answering) return;
    answering = false;
    clearTimeout(statusTimer);
    untrack();
    subscription?.unsubscribe();
    demand?.resume();
  };
  /** For a client that stopped reading: an end frame would wait for ever, so the connection goes. */
  const drop = () => {
    stopAnswer();
    clearTimeout(stallTimer);
    pending = '';
    sink.destroy();
  };
  const waitForClient = () => {
    stallTimer ??= setTimeout(drop, limits.stallTimeoutMs);
  };
  const write = (text: string) => {
    if (!sink.write(text)) {
      behind = true;
      if (answering) demand?.pause();
      waitForClient();
    }
  };
  const endNow = () => {
    const text = pending;
    pending = '';
    ending = false;
    sink.end(text);
    // Until the client has taken the last frames they are held for it: a client that never does is dropped.
    if (sink.onFinish) {
      waitForClient();
      sink.onFinish(() => clearTimeout(stallTimer));
    }
  };
  const begin = () => {
    started = true;
    clearTimeout(statusTimer);
    sink.start(200, { ...lifecycle.responseHeaders(), ...SSE_HEADERS });
    pending = framer.role() + pending;
  };
  const flush = () => {
    flushQueued = false;
    if (behind || pending === '' || ending) return;
    const text = pending;
    pending = '';
    write(text);
  };
  const send = (frame: string) => {
    if (!answering) return;
    if (!started) begin();
    pending += frame;
    // Frames pile up only while the client is behind: past the bound it is not keeping up, and the answer stops.
    if (behind && pending.length > limits.maxBufferedBytes) return drop();
    if (!flushQueued) {
      flushQueued = true;
      sink.defer(flush);
    }
  };
  /**
   * A frame of guardrails events (`include_guardrails`) does not open the stream: before the status is decided it
   * waits for the first token, the end or the status timer, so a failure after an input check keeps its own status.
   */
  const note = (frame: string) => {
    if (started) send(frame);
    else if (answering) pending += frame;
  };
  const close = (last: string) => {
    if (!answering) return;
    if (!started) begin();
    stopAnswer();
    pending += last + DONE_FRAME;
    if (!behind) return endNow();
    if (pending.length > limits.maxBufferedBytes) return drop();
    ending = true;
  };
  const fail = (error: unknown) => {
    const { payload, status, headers } = errorPayload(error, onError, hideErrorDetail);
    if (started || status === 200) return close(`data: ${payload}\n\n`);
    // Nothing sent yet: the failure is the response, with its own status.
    stopAnswer();
    sink.start(status, { ...lifecycle.responseHeaders(), 'content-type': 'application/json', ...headers });
    sink.end(payload);
  };

  sink.onDrain(() => {
    clearTimeout(stallTimer);
    stallTimer = undefined;
    behind = false;
    demand?.resume();
    if (ending) endNow();
    else flush();
  });
  const untrack = lifecycle.track({
    stop: (reason) => {
      if (!answering) return;
      const payload = pythonJsonDumps(shutdownError(reason));
      if (started) return close(`data: ${payload}\n\n`);
      stopAnswer();
      sink.start(503, { ...lifecycle.responseHeaders(), 'content-type': 'application/json' });
      sink.end(payload);
    },
  });
  onClientGone(() => {
    stopAnswer();
    clearTimeout(stallTimer);
  });
  statusTimer = setTimeout(() => {
    if (answering && !started) {
      begin();
      flush();
    }
  }, STATUS_WAIT_MS);
  subscription = tokens$.subscribe({
    next: (item) => (typeof item === 'string' ? send(framer.token(item)) : note(framer.guardrails(item.guardrails))),
    error: fail,
    complete: () => close(framer.finish() + (usage ? framer.usage(openAIUsage(usage.snapshot().totals)) : '')),
  });
  if (!answering) subscription.unsubscribe();
}

/** What a client is told when a shutdown stops its answer (a frame in a stream, else a 503 body). */
export function shutdownError(reason: string): ReturnType<typeof openAIError> {
  return openAIError(reason, { type: 'server_error', code: 'server_shutting_down' });
}

function nodeSink(outgoing: ServerResponse): FrameSink {
  return {
    start: (status, headers) => outgoing.writeHead(status, headers),
    // Node buffers what the socket does not take; `write` answering false says the client is behind.
    write: (text) => outgoing.write(text),
    end: (text) => outgoing.end(text),
    onDrain: (listener) => outgoing.on('drain', listener),
    onFinish: (listener) => outgoing.once('finish', listener),
    destroy: () => outgoing.destroy(),
    defer: (callback) => process.nextTick(callback),
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
      controller.enqueue(encoder.encode(text));
      return (controller.desiredSize ?? 0) > 0;
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
    defer: queueMicrotask,
  };
}
