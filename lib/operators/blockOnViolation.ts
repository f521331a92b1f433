import type { OperatorFunction } from 'rxjs';
import { REFUSAL } from '../core/refusals.js';
import type { CheckedBatch } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertOneOf, assertOptionsObject, assertString } from '../internal/validateOptions.js';
import { releaseOrBlock } from './internal/releaseOrBlock.js';
import type { ViolationSettings } from './internal/settings.js';

/** Options of {@link blockOnViolation}. */
export interface BlockOnViolationOptions {
  /**
   * How a violation reaches the subscriber:
   * - `'error'`: the stream errors with {@link RailViolationError};
   * - `'chunk'`: NeMo's error payload is emitted as one last item (`{"error": {"message": "Blocked by <rail>
   *   rails.", ...}}`, byte-identical to NeMo's), then the stream completes;
   * - `'replace'`: `replacement` is emitted as one last item, then the stream completes.
   * @default 'error'
   */
  readonly mode?: 'error' | 'chunk' | 'replace';
  /**
   * The text `mode: 'replace'` emits instead of the rest of the answer. Only valid with that mode.
   * @default "I'm sorry, I can't respond to that."
   */
  readonly replacement?: string;
}

/** blockOnViolation's option names (guard accepts them too). */
export const VIOLATION_OPTION_KEYS = ['mode', 'replacement'] as const;

/** Validates blockOnViolation's options for `owner` (blockOnViolation, guard, the LLMRails rail plan). */
export function resolveViolationSettings(owner: string, options: BlockOnViolationOptions): ViolationSettings {
  assertOptionsObject(owner, options);
  const { mode = 'error', replacement } = options;
  assertOneOf(owner, 'mode', mode, ['error', 'chunk', 'replace'] as const);
  if (replacement !== undefined) {
    assertString(owner, 'replacement', replacement);
    if (mode !== 'replace') {
      throw new InvalidOptionError(
        'replacement',
        replacement,
        `${owner}: replacement is only used with mode 'replace' (mode is '${mode}'); set mode: 'replace' or drop it`,
      );
    }
  }
  return { mode, replacement: replacement ?? REFUSAL };
}

/**
 * Releases the text of checked windows and stops the stream at the first blocked one.
 *
 * After a window passes, every item it holds is released except its last `overlap` items, which the next window
 * checks again: they wait for that window (or for the source to complete). So no item is released before every
 * window containing it has passed, and nothing of a blocked window is ever released. Items are released one by
 * one, as the source emitted them, unless a rail rewrote part of a window (`RailDecision.rewrites`, e.g. masking):
 * then an item is released only when no later window can extend a rewritten span touching it, with the spans
 * replaced (see `RailDecision`); the batches must be `bufferChunks`'s, whose offsets it follows.
 *
 * ```
 * source:  ---a---b---c---|         (a, b pass; c is blocked)
 * result:  ---x---y---#             x, y = released items, # = RailViolationError (mode 'error')
 * ```
 *
 * - On a blocked window the source is unsubscribed at once (so the upstream LLM request is aborted) and the
 *   violation is signalled per `mode`: an error, NeMo's payload as a last item, or a replacement text.
 * - On completion, the items still held back are released, then it completes.
 * - Source errors pass through; held items are then dropped.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { blockOnViolation, bufferChunks, checkRail, keywordRail } from 'rxguardrails';
 *
 * from(['Our ', 'secret ', 'plan']).pipe(
 *   bufferChunks({ chunkSize: 2, contextSize: 1 }),
 *   checkRail([keywordRail(['secret'])]),
 *   blockOnViolation({ mode: 'chunk' }),
 * ).subscribe((text) => console.log(text));
 * // {"error": {"message": "Blocked by keyword rails.", "type": "guardrails_violation", "param": "keyword", "code": "content_blocked"}}
 * ```
 *
 * @param options `mode` (default 'error') and `replacement` (only with mode 'replace').
 */
export function blockOnViolation(options: BlockOnViolationOptions = {}): OperatorFunction<CheckedBatch, string> {
  assertKnownKeys('blockOnViolation', options, VIOLATION_OPTION_KEYS);
  return releaseOrBlock(resolveViolationSettings('blockOnViolation', options));
}
