import { from, interval, map, type Observable, type SchedulerLike, take, asyncScheduler } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

/** Options of {@link tokenSource} for a list of tokens. */
export interface TokenListOptions {
  /**
   * Milliseconds between tokens (the first arrives after one interval). Without it, all tokens are emitted
   * synchronously on subscription.
   */
  readonly intervalMs?: number;
  /**
   * Scheduler of the intervals; inside `TestScheduler.run` the default one runs in virtual time.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
}

/** Options of {@link tokenSource} for a marble diagram. */
export interface TokenMarbleOptions {
  /** The scheduler that interprets the marble (inside `run`, the one `run` was called on). */
  readonly scheduler: TestScheduler;
  /** Token of each marble character; by default a character stands for itself. */
  readonly values?: Readonly<Record<string, string>>;
  /** The error `#` stands for. */
  readonly error?: unknown;
}

/**
 * A token stream for tests and demos: from a list of tokens (at once, or one every `intervalMs`), or from a
 * marble diagram (a cold observable whose subscriptions `expectSubscriptions` can check).
 *
 * ## Example
 * ```ts
 * import { tokenSource, createTestScheduler } from 'rxguardrails/testing';
 *
 * const tokens$ = tokenSource(['Hel', 'lo', ' world'], { intervalMs: 20 });
 *
 * const scheduler = createTestScheduler();
 * scheduler.run(() => {
 *   const marbled$ = tokenSource('-a-b-|', { scheduler, values: { a: 'Hel', b: 'lo' } });
 * });
 * ```
 */
export function tokenSource(tokens: readonly string[], options?: TokenListOptions): Observable<string>;
export function tokenSource(marble: string, options: TokenMarbleOptions): Observable<string>;
export function tokenSource(input: readonly string[] | string, options?: TokenListOptions | TokenMarbleOptions): Observable<string> {
  if (typeof input === 'string') {
    const marbleOptions = options as TokenMarbleOptions | undefined;
    if (!marbleOptions?.scheduler) {
      throw new TypeError('tokenSource: a marble diagram needs { scheduler } (the TestScheduler that runs the test)');
    }
    return marbleOptions.scheduler.createColdObservable<string>(input, marbleOptions.values, marbleOptions.error);
  }
  const { intervalMs, scheduler = asyncScheduler } = (options ?? {}) as TokenListOptions;
  if (intervalMs === undefined) return from(input);
  return interval(intervalMs, scheduler).pipe(
    take(input.length),
    map((position) => input[position]!),
  );
}
