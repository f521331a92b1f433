import { type Observable, type Observer, ReplaySubject, type Subscribable, type Unsubscribable } from 'rxjs';
import { InvalidItemError } from '../errors/InvalidItemError.js';
import { brand, hasBrand } from '../internal/brand.js';
import { toAsyncIterable } from '../internal/toAsyncIterable.js';

/** Writes without a newline where there is a stdout (Node), else logs to the console (browsers). */
function print(text: string): void {
  const stdout = (globalThis as { process?: { stdout?: { write(text: string): unknown } } }).process?.stdout;
  if (stdout) stdout.write(text);
  else console.log(text);
}

/** Options of {@link StreamingHandler}. */
export interface StreamingHandlerOptions {
  /**
   * Print each chunk to the console as it arrives, in green (NeMo's `enable_print`).
   * @default false
   */
  readonly enablePrint?: boolean;
}

/**
 * Receives the chunks of an answer while `LLMRails.generate` produces it (NeMo's `StreamingHandler`): consume it
 * with `for await`, subscribe to it, or wait for the whole text.
 *
 * `pushChunk(text)` adds a chunk (the empty string is a chunk too, as in NeMo since v0.14); `pushChunk(null)` or
 * `finish()` ends it; chunks after the end are ignored. Every consumer gets every chunk, from the first.
 *
 * ## Example
 * ```ts
 * import { StreamingHandler } from 'rxguardrails';
 *
 * const handler = new StreamingHandler();
 * const consuming = (async () => {
 *   for await (const chunk of handler) process.stdout.write(chunk);
 * })();
 * const message = await rails.generate(messages, { streamingHandler: handler });
 * await consuming;
 * console.log(message.content === handler.completion); // true
 * ```
 */
export class StreamingHandler implements AsyncIterable<string>, Subscribable<string> {
  static {
    brand(this, 'StreamingHandler');
  }

  /** Whether `value` is a StreamingHandler, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is StreamingHandler {
    return hasBrand(value, 'StreamingHandler');
  }

  private readonly chunks$ = new ReplaySubject<string>();
  private readonly enablePrint: boolean;
  private text = '';
  private ended = false;
  private readonly done: Promise<string>;
  private settle!: { resolve: (text: string) => void; reject: (error: unknown) => void };

  constructor(options: StreamingHandlerOptions = {}) {
    this.enablePrint = options.enablePrint ?? false;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Rejections are for those who wait; an unobserved failure must not crash the process.
    this.done.catch(() => undefined);
  }

  /** The text received so far (all of it once finished). */
  get completion(): string {
    return this.text;
  }

  /** Whether the answer has ended (finished or failed). */
  get isFinished(): boolean {
    return this.ended;
  }

  /** Adds a chunk; `null` ends the stream, as in NeMo. */
  pushChunk(chunk: string | null): void {
    if (this.ended) return;
    if (chunk === null) {
      this.finish();
      return;
    }
    if (typeof chunk !== 'string') throw new InvalidItemError('StreamingHandler.pushChunk', 0, chunk);
    this.text += chunk;
    if (this.enablePrint) print(`\u001b[92m${chunk}\u001b[0m`);
    this.chunks$.next(chunk);
  }

  /** Ends the stream. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.chunks$.complete();
    this.settle.resolve(this.text);
  }

  /** Ends the stream with an error: consumers and `wait()` get it. */
  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.chunks$.error(error);
    this.settle.reject(error);
  }

  /** The whole text, once finished. */
  wait(): Promise<string> {
    return this.done;
  }

  subscribe(observer: Partial<Observer<string>>): Unsubscribable {
    return this.chunks$.subscribe(observer);
  }

  asObservable(): Observable<string> {
    return this.chunks$.asObservable();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return toAsyncIterable(this.chunks$.asObservable())[Symbol.asyncIterator]();
  }
}
