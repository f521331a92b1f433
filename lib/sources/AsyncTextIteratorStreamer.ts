import { defer, finalize, type Observable, ReplaySubject } from 'rxjs';
import { InvalidItemError } from '../errors/InvalidItemError.js';
import { brand, hasBrand } from '../internal/brand.js';
import { toAsyncIterable } from '../internal/toAsyncIterable.js';

/**
 * A push-style bridge from a local model's generation loop to a token stream: the loop calls `put(text)` per
 * piece of text and `end()` when done; consumers read it as an async iterable or an Observable.
 *
 * The TypeScript counterpart of NeMo's HuggingFace `AsyncTextIteratorStreamer`, without its bug: `end()` always
 * ends the stream (NeMo's enqueues the last text again instead of its stop signal, so iteration never ends).
 * `put`, `end` and `error` are bound, so they can be handed over as callbacks (a transformers.js `TextStreamer`'s
 * `callback_function`), and `onFinalizedText(text, streamEnd)` matches the streamer hook of that name. Empty text
 * is skipped; calls after the end are ignored.
 *
 * Every consumer gets the whole text, from the first piece. When all consumers unsubscribe before the end (a
 * guard blocked the answer), `signal` aborts, so the generation loop can stop early.
 *
 * ## Example
 * ```ts
 * import { AsyncTextIteratorStreamer, guard, keywordRail } from 'rxguardrails';
 *
 * const streamer = new AsyncTextIteratorStreamer();
 * const streamerForPipeline = new TextStreamer(tokenizer, { skip_prompt: true, callback_function: streamer.put });
 * void generator(prompt, { streamer: streamerForPipeline }).then(streamer.end, streamer.error);
 * streamer.asObservable().pipe(guard([keywordRail(['password'])])).subscribe((token) => process.stdout.write(token));
 * ```
 */
export class AsyncTextIteratorStreamer implements AsyncIterable<string> {
  static {
    brand(this, 'AsyncTextIteratorStreamer');
  }

  /** Whether `value` is an AsyncTextIteratorStreamer, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is AsyncTextIteratorStreamer {
    return hasBrand(value, 'AsyncTextIteratorStreamer');
  }

  private readonly text$ = new ReplaySubject<string>();
  private readonly controller = new AbortController();
  private ended = false;
  private consumers = 0;

  /** Aborts when every consumer left before the end: the generation may stop. */
  readonly signal: AbortSignal = this.controller.signal;

  /** Adds a piece of text (empty text is skipped). */
  readonly put = (text: string): void => {
    if (this.ended) return;
    if (typeof text !== 'string') throw new InvalidItemError('AsyncTextIteratorStreamer.put', 0, text);
    if (text !== '') this.text$.next(text);
  };

  /** Ends the stream; always, whatever came before. */
  readonly end = (): void => {
    if (this.ended) return;
    this.ended = true;
    this.text$.complete();
  };

  /** Ends the stream with an error (the generation failed). */
  readonly error = (error: unknown): void => {
    if (this.ended) return;
    this.ended = true;
    this.text$.error(error);
  };

  /** The transformers.js / Hugging Face streamer hook: the text, then whether it was the last. */
  readonly onFinalizedText = (text: string, streamEnd = false): void => {
    this.put(text);
    if (streamEnd) this.end();
  };

  /** Whether `end()` or `error()` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** The text as an Observable; each subscriber gets all of it. */
  asObservable(): Observable<string> {
    return defer(() => {
      this.consumers++;
      return this.text$.pipe(
        finalize(() => {
          if (--this.consumers === 0 && !this.ended) this.controller.abort();
        }),
      );
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return toAsyncIterable(this.asObservable())[Symbol.asyncIterator]();
  }
}
