import { asyncScheduler, isObservable, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertDuration, assertKnownKeys, describeValue } from '../internal/validateOptions.js';

/** Options of {@link hedge}. */
export interface HedgeOptions {
  /** Milliseconds to wait for the primary's first item before starting the backup too. */
  readonly deadlineMs: number;
  /**
   * Scheduler of the deadline; inside `TestScheduler.run` the default one runs in virtual time.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * Hedges a slow provider: subscribes to `primary`, and if it has emitted nothing after `deadlineMs`, subscribes
 * to `backup` as well. The first of the two to emit is kept and the other is unsubscribed (its request aborted).
 *
 * ```
 * deadline 3
 * primary:  ------a-b-|          (too slow: cancelled when backup emits)
 * backup:      --x-y-|           (started at the deadline)
 * result:   -----x-y-|
 * ```
 *
 * - A source that fails before either emitted does not decide the race: if the primary fails, the backup starts
 *   at once; the result fails only when both have failed (with the later failure).
 * - A source that completes without emitting wins with an empty answer.
 * - Once a winner is chosen, its completion, errors and unsubscription are the result's.
 *
 * ## Example
 * ```ts
 * import { fromAnthropic, fromOpenAI, hedge } from 'rxguardrails';
 *
 * hedge(fromOpenAI(openai, params), fromAnthropic(anthropic, anthropicParams), { deadlineMs: 1_500 })
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param primary The preferred source.
 * @param backup Started at the deadline, or as soon as the primary fails.
 * @param options `deadlineMs` (required), `scheduler`.
 */
export function hedge<T>(primary: Observable<T>, backup: Observable<T>, options: HedgeOptions): Observable<T> {
  assertKnownKeys('hedge', options, ['deadlineMs', 'scheduler']);
  for (const [name, source] of [['primary', primary], ['backup', backup]] as const) {
    if (!isObservable(source)) {
      throw new InvalidOptionError(name, source, `hedge: ${name} must be an Observable, got ${describeValue(source)}`);
    }
  }
  assertDuration('hedge', 'deadlineMs', options?.deadlineMs);
  const { deadlineMs, scheduler = asyncScheduler } = options;

  return new Observable<T>((subscriber) => {
    const sources = [primary, backup] as const;
    const subscriptions: (Subscription | undefined)[] = [undefined, undefined];
    const failed = [false, false];
    let winner: 0 | 1 | undefined;

    const decide = (index: 0 | 1) => {
      winner = index;
      deadline.unsubscribe();
      subscriptions[1 - index]?.unsubscribe();
    };
    const start = (index: 0 | 1) => {
      if (subscriptions[index] || subscriber.closed) return;
      const subscription = sources[index].subscribe({
        next: (value) => {
          if (winner === undefined) decide(index);
          if (winner === index) subscriber.next(value);
        },
        error: (error: unknown) => {
          if (winner === index) {
            subscriber.error(error);
            return;
          }
          failed[index] = true;
          if (failed[0] && failed[1]) subscriber.error(error);
          else if (index === 0) start(1);
        },
        complete: () => {
          if (winner === undefined) decide(index);
          if (winner === index) subscriber.complete();
        },
      });
      subscriptions[index] = subscription;
      subscriber.add(subscription);
    };

    const deadline = scheduler.schedule(() => start(1), deadlineMs);
    subscriber.add(deadline);
    start(0);
  });
}
