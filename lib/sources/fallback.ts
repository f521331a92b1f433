import { catchError, defer, type Observable, tap, throwError } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, describeValue } from '../internal/validateOptions.js';

/** Options of {@link fallback}. */
export interface FallbackOptions {
  /**
   * Whether a failure of attempt `attempt` (from 0) should move on to the next source. Only failures before the
   * attempt emitted anything are ever considered.
   * @default every error
   */
  readonly shouldFallback?: (error: unknown, attempt: number) => boolean;
}

/**
 * Tries token sources one after the other: when one fails (a {@link ProviderError}, or a
 * {@link RailViolationError} from a guarded source) **before it emitted anything**, the next one is subscribed.
 * Once a source has emitted, it is the answer: a later failure is passed on, never spliced with another
 * attempt's text.
 *
 * ```
 * a:        ---#                 (fails before any text)
 * b:           --x-y-|
 * result:   -----x-y-|
 * ```
 *
 * - Sources are subscribed lazily, one at a time; the failed one is unsubscribed (its request aborted) first.
 * - If every source fails, the last failure is passed on.
 * - Guard each source, with `streamFirst: false`, to fall back on blocked answers too: nothing of a blocked first
 *   window is released, so the next provider can still answer cleanly.
 *
 * ## Example
 * ```ts
 * import { fallback, fromAnthropic, fromOpenAI, guard } from 'rxguardrails';
 *
 * const guarded = guard(rails, { streamFirst: false });
 * fallback([fromOpenAI(openai, openAIParams).pipe(guarded), fromAnthropic(anthropic, anthropicParams).pipe(guarded)])
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param sources At least one source, in order of preference.
 * @param options `shouldFallback` (default: on every error).
 */
export function fallback<T>(sources: readonly Observable<T>[], options: FallbackOptions = {}): Observable<T> {
  assertKnownKeys('fallback', options, ['shouldFallback']);
  if (!Array.isArray(sources as unknown) || sources.length === 0) {
    throw new InvalidOptionError('sources', sources, `fallback: sources must be a non-empty array of Observables, got ${describeValue(sources)}`);
  }
  const { shouldFallback = () => true } = options;
  if (typeof shouldFallback !== 'function') {
    throw new InvalidOptionError('shouldFallback', shouldFallback, `fallback: shouldFallback must be a function, got ${describeValue(shouldFallback)}`);
  }
  const attempt = (index: number): Observable<T> =>
    defer(() => {
      let emitted = false;
      return sources[index]!.pipe(
        tap(() => {
          emitted = true;
        }),
        catchError((error: unknown): Observable<T> =>
          !emitted && index + 1 < sources.length && shouldFallback(error, index) ? attempt(index + 1) : throwError(() => error),
        ),
      );
    });
  return attempt(0);
}
