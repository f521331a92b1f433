import type { MonoTypeOperatorFunction } from 'rxjs';
import type { OutputRail } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertBoolean, assertKnownKeys } from '../internal/validateOptions.js';
import { type BlockOnViolationOptions, resolveViolationSettings, VIOLATION_OPTION_KEYS } from './blockOnViolation.js';
import { type BufferChunksOptions, resolveWindowSize, WINDOW_OPTION_KEYS } from './bufferChunks.js';
import { CHECK_OPTION_KEYS, type CheckRailOptions, resolveCheckSettings } from './checkRail.js';
import { guardWith } from './internal/guardWith.js';
import type { GuardSettings } from './internal/settings.js';

/** Options of {@link guard}: those of the three operators it composes, plus `streamFirst`. */
export interface GuardOptions extends BufferChunksOptions, CheckRailOptions, BlockOnViolationOptions {
  /**
   * `true`: release each item the moment it arrives and check windows as they fill (lowest latency; the items of
   * a blocked window have already been seen). `false`: release an item only after every window containing it
   * passed, so no part of a forbidden phrase of at most `contextSize + 1` items is ever released.
   * @default true (as NeMo's `stream_first`)
   */
  readonly streamFirst?: boolean;
}

/** guard's option names: those of the three operators, and streamFirst (the AI SDK bridge takes the same). */
export const GUARD_OPTION_KEYS = [...WINDOW_OPTION_KEYS, ...CHECK_OPTION_KEYS, ...VIOLATION_OPTION_KEYS, 'streamFirst'] as const;

/** Validates guard's arguments for `owner` (guard, the LLMRails rail plan). */
export function resolveGuardSettings(owner: string, rails: unknown, options: GuardOptions): GuardSettings {
  const { streamFirst = true } = options;
  assertBoolean(owner, 'streamFirst', streamFirst);
  // Held-back text goes out once a window passed: windows start small so that the first goes out early.
  const size = resolveWindowSize(owner, options, !streamFirst);
  const check = resolveCheckSettings(owner, rails, options);
  const violation = resolveViolationSettings(owner, options);
  const rewriting = streamFirst ? check.rails.find((rail) => rail.rewrites === true) : undefined;
  if (rewriting) {
    throw new InvalidOptionError(
      'streamFirst',
      streamFirst,
      `${owner}: rail '${rewriting.name}' rewrites what is released, which needs streamFirst: false (with streamFirst: true items go out as they arrive, before a window could be rewritten)`,
    );
  }
  return { size, check, violation, streamFirst };
}

/**
 * Guards a token stream with output rails: windows of `chunkSize` items (with `contextSize` items of overlap) are
 * checked by the rails, and the stream stops at the first violation.
 *
 * The composition of {@link bufferChunks}, {@link checkRail} and {@link blockOnViolation}, with NeMo's
 * `stream_first` choice:
 * - `streamFirst: true` (default): every item is released the moment it arrives; windows are checked as they
 *   fill; on a violation nothing more is released and the violation is signalled.
 * - `streamFirst: false`: an item is released only when every window containing it has passed; after window k
 *   passes, its items that window k + 1 will not re-check are released; the rest follow when the source
 *   completes and the last window has passed.
 *
 * Rails may rewrite what is released (`RailDecision.rewrites`: masking). With `streamFirst: false` an item is then
 * also held while a later window could extend a rewritten span touching it, and goes out with the spans replaced,
 * never part of a span's raw text: no entity of at most `contextSize + 1` items is released raw. With
 * `streamFirst: true` a window answered with rewrites fails closed (its items already went out): an
 * `internal_error` of the rail, whatever `onError` says; a rail that declares `rewrites: true` (as
 * `maskSensitiveDataRail` does) is refused with `streamFirst: true` when guard is built.
 *
 * ```
 * rail blocks the window "bc"            guard([rail], { chunkSize: 2, contextSize: 1 })
 * source:              -a-b-c-d-|
 * streamFirst: true    -a-b-(c#)          c completes the blocked window and was released on arrival
 * streamFirst: false   ---a-#             a is settled once "ab" passed; b, c never reach the subscriber
 * ```
 *
 * - On a violation the source is unsubscribed at once, which aborts the upstream LLM request.
 * - Source errors pass through; unsubscribing unsubscribes the source and aborts rails still working.
 * - Every option of the three operators applies (`chunkSize`, `contextSize`, `parallel`, `timeout`, `onError`,
 *   `messages`, `usage`, `mode`, `replacement`) and all are validated here.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { guard, keywordRail } from 'rxguardrails';
 *
 * from(['The ', 'launch ', 'code ', 'is ', '0000']).pipe(
 *   guard([keywordRail(['launch code'])], { chunkSize: 4, contextSize: 2, streamFirst: false }),
 * ).subscribe({ next: (token) => process.stdout.write(token), error: (error) => console.log(`\n${error.message}`) });
 * // Blocked by keyword rails.
 * ```
 *
 * @param rails Output rails, each with a unique name.
 * @param options See {@link GuardOptions}; defaults: chunkSize 200, contextSize 50, streamFirst true, mode 'error'.
 */
export function guard(rails: readonly OutputRail[], options: GuardOptions = {}): MonoTypeOperatorFunction<string> {
  assertKnownKeys('guard', options, GUARD_OPTION_KEYS);
  return guardWith(resolveGuardSettings('guard', rails, options));
}
