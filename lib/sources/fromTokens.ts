import { Observable } from 'rxjs';
import { InvalidItemError } from '../errors/InvalidItemError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import type { Demand } from '../core/types.js';
import { assertDemand, assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import { DemandWait } from './demandWait.js';

/** What fromTokens accepts: tokens, at once or over time, or a function making them that honours a signal. */
export type TokenInput = Iterable<string> | AsyncIterable<string> | ((signal: AbortSignal) => Iterable<string> | AsyncIterable<string>);

/** Options of {@link fromTokens}. */
export interface FromTokensOptions {
  /**
   * Backpressure for an async producer: after each token, the next is asked for only once `demand.ready()` says so
   * (see `Demand`). A synchronous iterable is read at once regardless: its tokens are already there.
   * @default read as fast as the producer gives
   */
  readonly demand?: Demand;
}

/**
 * Turns any producer of tokens (an array, a generator, an async generator, an SDK stream, a function of an
 * AbortSignal) into `Observable<string>` with prompt cancellation.
 *
 * Unlike `from(asyncIterable)`, which only notices an unsubscription when the next value arrives, unsubscribing
 * calls the iterator's `return()` and aborts the signal given to a factory **at once**, so a request or a local
 * generation loop stops without waiting for one more token. Each subscription calls the factory (or iterates the
 * iterable) anew. A synchronous iterable is read synchronously, and stops as soon as the consumer has had enough.
 *
 * - Completes when the iterator is done; errors with what it throws; a non-string token errors with
 *   {@link InvalidItemError}.
 *
 * ## Example
 * ```ts
 * import { fromTokens, guard, keywordRail } from 'rxguardrails';
 *
 * async function* generate(signal: AbortSignal) {
 *   const response = await fetch('http://localhost:11434/api/generate', { method: 'POST', body, signal });
 *   for await (const line of lines(response.body!)) yield JSON.parse(line).response as string;
 * }
 * fromTokens(generate).pipe(guard([keywordRail(['password'])])).subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param input An iterable or async iterable of strings, or a function of an AbortSignal returning one.
 * @param options `demand` (backpressure for an async producer).
 */
export function fromTokens(input: TokenInput, options: FromTokensOptions = {}): Observable<string> {
  if (!(typeof input === 'function' || isIterable(input) || isAsyncIterable(input)) || typeof input === 'string') {
    throw new InvalidOptionError(
      'input',
      input,
      `fromTokens: input must be an iterable, an async iterable or a function of an AbortSignal returning one, got ${describeValue(input)}` +
        (typeof input === 'string' ? ' (a string would stream its characters; pass [text] for one token)' : ''),
    );
  }
  assertKnownKeys('fromTokens', options, ['demand']);
  const { demand } = options;
  assertDemand('fromTokens', 'options.demand', demand);
  return new Observable<string>((subscriber) => {
    const controller = new AbortController();
    let position = 0;
    const accept = (token: unknown): token is string => {
      if (typeof token === 'string') {
        position++;
        return true;
      }
      subscriber.error(new InvalidItemError('fromTokens', position, token));
      return false;
    };

    const tokens = typeof input === 'function' ? input(controller.signal) : input;
    if (!isAsyncIterable(tokens)) {
      const iterator = tokens[Symbol.iterator]();
      try {
        for (;;) {
          if (subscriber.closed) {
            iterator.return?.();
            return undefined;
          }
          const result = iterator.next();
          if (result.done) break;
          if (!accept(result.value)) {
            iterator.return?.();
            return undefined;
          }
          subscriber.next(result.value);
        }
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      subscriber.complete();
      return undefined;
    }

    const iterator = tokens[Symbol.asyncIterator]();
    let finished = false;
    const demanded = new DemandWait(demand);
    (async () => {
      for (;;) {
        const result = await iterator.next();
        if (subscriber.closed) return;
        if (result.done) {
          finished = true;
          subscriber.complete();
          return;
        }
        if (!accept(result.value)) return;
        subscriber.next(result.value);
        const wait = demanded.next();
        if (wait) {
          await wait;
          if (subscriber.closed) return;
        }
      }
    })().catch((error: unknown) => {
      finished = true;
      subscriber.error(error);
    });

    return () => {
      demanded.end();
      controller.abort();
      if (!finished) {
        finished = true;
        // An async generator busy in an await handles return() once that await settles; the abort above is
        // what stops work in flight (fetch, SDK calls), which is why factories get the signal.
        Promise.resolve(iterator.return?.()).catch(() => undefined);
      }
    };
  });
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}
