import { map, type Observable, of, throwError, timer, mergeMap } from 'rxjs';
import type { OutputRail, RailContext, RailResult } from '../core/types.js';
import { defineRail } from '../rails/defineRail.js';

/** What a fake rail answers on one call: a result, or an Error it throws / rejects with / errors with. */
export type FakeAnswer = RailResult | Error;

/** One call a fake rail received. */
export interface FakeRailCall {
  /** The window text. */
  readonly text: string;
  readonly context: RailContext;
}

/** Options of {@link fakeRail}. */
export interface FakeRailOptions {
  /** @default 'fake' */
  readonly name?: string;
  /**
   * The answer: one for every call, a function of the call, or a list with one answer per call (a call beyond
   * the list fails, which the rail reports as an internal error).
   * @default true (allow everything)
   */
  readonly answer?: FakeAnswer | readonly FakeAnswer[] | ((text: string, context: RailContext, call: number) => FakeAnswer);
  /**
   * How it answers: directly, with a Promise, or with an Observable (which a TestScheduler can delay in virtual time).
   * @default 'sync'
   */
  readonly respond?: 'sync' | 'promise' | 'observable';
  /**
   * Delay before an asynchronous answer, in ms (timers for a Promise, the async scheduler for an Observable).
   * A Promise answer rejects with the signal's reason if the check is aborted first.
   * @default 0
   */
  readonly delayMs?: number;
}

/** An output rail for tests that records every call. */
export interface FakeRail extends OutputRail {
  readonly calls: readonly FakeRailCall[];
  /** The window texts it was asked about, in order. */
  readonly texts: readonly string[];
}

/**
 * A rail that answers as told and records the calls it received, for testing pipelines and rail compositions.
 *
 * ## Example
 * ```ts
 * import { fakeRail } from 'rxguardrails/testing';
 *
 * const rail = fakeRail({ answer: [true, { allowed: false, reason: 'nope' }], respond: 'promise', delayMs: 5 });
 * // ... run a pipeline ...
 * expect(rail.texts).toEqual(['first window', 'second window']);
 * expect(rail.calls[1]!.context.signal.aborted).toBe(false);
 * ```
 */
export function fakeRail(options: FakeRailOptions = {}): FakeRail {
  const { name = 'fake', answer = true, respond = 'sync', delayMs = 0 } = options;
  const calls: FakeRailCall[] = [];

  const answerFor = (text: string, context: RailContext, call: number): FakeAnswer => {
    if (typeof answer === 'function') return answer(text, context, call);
    if (!Array.isArray(answer)) return answer as FakeAnswer;
    if (call >= answer.length) {
      throw new Error(`fakeRail '${name}' has no answer for call ${call + 1} (${answer.length} given)`);
    }
    return answer[call] as FakeAnswer;
  };

  const rail = defineRail(name, (text, context): RailResult | Promise<RailResult> | Observable<RailResult> => {
    const call = calls.length;
    calls.push({ text, context });
    switch (respond) {
      case 'sync': {
        const result = answerFor(text, context, call);
        if (result instanceof Error) throw result;
        return result;
      }
      case 'promise':
        return new Promise<RailResult>((resolve, reject) => {
          const { signal } = context;
          const onAbort = () => {
            clearTimeout(timeout);
            reject(signal.reason);
          };
          const timeout = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            try {
              const result = answerFor(text, context, call);
              if (result instanceof Error) reject(result);
              else resolve(result);
            } catch (error) {
              reject(error);
            }
          }, delayMs);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      case 'observable':
        return (delayMs > 0 ? timer(delayMs) : of(0)).pipe(
          map(() => answerFor(text, context, call)),
          mergeMap((result) => (result instanceof Error ? throwError(() => result) : of(result))),
        );
    }
  });

  return {
    name: rail.name,
    check: rail.check,
    calls,
    get texts() {
      return calls.map((call) => call.text);
    },
  };
}
