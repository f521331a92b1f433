// Internal: the SSE writer, `chat.completion.chunk` frames for a request with `stream: true`.
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Observable, Subscription } from 'rxjs';
import type { UsageTracker } from '../usage/UsageTracker.js';
import { errorPayload } from './errorPayload.js';
import { ChunkFramer, type CompletionIds, DONE_FRAME, openAIUsage } from './openAIProtocol.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * Where the frames go, and how the writer learns of a client gone: Node's response under @hono/node-server (its
 * 'close'), else the request's signal. The signal is not asked for under @hono/node-server: reading it makes the
 * adapter build the whole web Request.
 */
export type SseTarget = { readonly outgoing: ServerResponse; readonly signal?: undefined } | { readonly outgoing?: undefined; readonly signal: AbortSignal };

/** What {@link sseResponse} needs besides the tokens. */
export interface SseResponseOptions {
  readonly ids: CompletionIds;
  /** The tracker the answer's LLM calls go to, when the request asked for `stream_options.include_usage`. */
  readonly usage?: UsageTracker;
  /** Where an unexpected failure goes (it is sent as a `server_error` frame). */
  readonly onError: (error: unknown) => void;
  readonly target: SseTarget;
}

/** Where the SSE frames of one response go: whole strings in, closed once with the last of them. */
interface FrameSink {
  write(frames: string): void;
  end(frames: string): void;
}

/**
 * Streams the answer as SSE: a role frame, one frame per token, a final frame with `finish_reason`, a usage frame
 * when asked, then `data: [DONE]`; a failure is `data: {"error": ...}` (see {@link errorPayload}) then
 * `data: [DONE]`. The answer is subscribed here, and nowhere else.
 *
 * Under @hono/node-server the frames are written straight to Node's response (no web ReadableStream per response:
 * about a third of the server's time under load); anywhere else (app.request(), other runtimes) through a
 * ReadableStream. Either way, a client that goes away unsubscribes the answer, which aborts the model request and
 * the rails.
 */
export function sseResponse(tokens$: Observable<string>, options: SseResponseOptions): Response {
  const { ids, usage, onError, target } = options;
  const framer = new ChunkFramer(ids, usage !== undefined);
  let subscription: Subscription | undefined;
  const stop = () => subscription?.unsubscribe();

  const run = (sink: FrameSink) => {
    let open = true;
    // Frames of one synchronous burst (a model that answers at once, a released window) go out in one write; a
    // token that arrives alone is written at the end of its task, so no token waits for another.
    let pending = '';
    const flush = () => {
      if (open && pending !== '') sink.write(pending);
      pending = '';
    };
    const send = (frame: string) => {
      if (!open) return;
      if (pending === '') queueMicrotask(flush);
      pending += frame;
    };
    const close = () => {
      const last = pending + DONE_FRAME;
      pending = '';
      open = false;
      sink.end(last);
    };
    send(framer.role());
    subscription = tokens$.subscribe({
      next: (token) => send(framer.token(token)),
      error: (error: unknown) => {
        send(`data: ${errorPayload(error, onError).payload}\n\n`);
        close();
      },
      complete: () => {
        send(framer.finish());
        if (usage) send(framer.usage(openAIUsage(usage.snapshot().totals)));
        close();
      },
    });
  };

  const { outgoing } = target;
  if (outgoing) {
    outgoing.writeHead(200, SSE_HEADERS);
    outgoing.on('close', stop);
    run({ write: (frames) => outgoing.write(frames), end: (frames) => outgoing.end(frames) });
    return RESPONSE_ALREADY_SENT;
  }
  target.signal.addEventListener('abort', stop, { once: true });
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start: (controller) =>
      run({
        write: (frames) => controller.enqueue(encoder.encode(frames)),
        end: (frames) => {
          controller.enqueue(encoder.encode(frames));
          controller.close();
        },
      }),
    cancel: stop,
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
