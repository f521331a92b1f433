// Internal: the `data` of each Server-Sent Event in a fetch body, for fromGuardrailsServer.
//
// The parsing is eventsource-parser's (field lines, CR / LF / CRLF line ends, comments, multi-line data, events
// split anywhere across network chunks). Version 3.x, not 4.x: 4.x declares engines node >= 22.12 while this package
// supports Node 20 (npm would warn, or refuse under engine-strict); 3.x declares node >= 18, has no dependencies and
// uses only what browsers have (no Node built-in), so the core entry stays browser-safe. It is ~3 kB minified.
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Characters the parser may hold for one unfinished line or event. The server frames one token per event, so a
 * legitimate event is a few hundred bytes; a peer that never ends its event must not grow the page's memory without
 * bound.
 */
export const MAX_EVENT_CHARS = 1024 * 1024;

/** Why the SSE body could not be read as events (the buffer bound), as opposed to the network failing. */
export class SseOverflow extends Error {
  override name = 'SseOverflow';
}

/**
 * Yields the `data` of each event of `body` as it completes, in order. Ends when the body ends (an event left
 * unfinished at the end is dropped, as EventSource drops it); a failure to read the body is thrown as it is.
 * Returning early (a `break`, or `return()` from the consumer) cancels the body, which ends the HTTP response.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const ready: string[] = [];
  let overflow: SseOverflow | undefined;
  const parser = createParser({
    onEvent: (event: EventSourceMessage) => void ready.push(event.data),
    // Unknown fields and a bad `retry` are ignored, as the SSE specification says; only the bound stops the read.
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = new SseOverflow(`an event longer than ${MAX_EVENT_CHARS} characters`);
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  let done = false;
  try {
    while (true) {
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        // A multi-byte character cut at the very end is flushed (as U+FFFD) into a line that cannot end an event.
        parser.feed(decoder.decode());
        yield* ready.splice(0);
        return;
      }
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (overflow) throw overflow;
      // Events are handed out one at a time: the consumer may stop after any of them, leaving the rest unread.
      while (ready.length > 0) yield ready.shift()!;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
