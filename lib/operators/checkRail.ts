import type { OperatorFunction } from 'rxjs';
import { lastUserMessage } from '../core/messages.js';
import type { ChatMessage, CheckedBatch, ChunkBatch, OutputRail, UsageSink } from '../core/types.js';
import {
  assertBoolean,
  assertDuration,
  assertInteger,
  assertKnownKeys,
  assertMessages,
  assertOneOf,
  assertOptionsObject,
  assertRails,
  assertUsageSink,
} from '../internal/validateOptions.js';
import { checkWith } from './internal/checkWith.js';
import type { CheckSettings } from './internal/settings.js';

/** Options of {@link checkRail}. */
export interface CheckRailOptions {
  /**
   * Run the rails of a window together; the first to block wins and the others are cancelled through their
   * `AbortSignal`. Windows are still checked one after the other.
   * @default false (rails run in the given order and stop at the first block)
   */
  readonly parallel?: boolean;
  /**
   * How many windows may be checked at once. Verdicts are still reported strictly in order, and with `guard` text
   * is released in order and the stream stops at the first blocked window, whose later windows' checks are aborted.
   * Above 1, a rail slower than the stream keeps up (a 400 ms judge on windows arriving every 150 ms needs 3); each
   * window is still one check.
   * @default 1 (one window after the other)
   */
  readonly concurrency?: number;
  /**
   * Milliseconds an asynchronous rail may take on one window before it counts as failed. Synchronous rails are
   * never cut short.
   * @default undefined (no limit)
   */
  readonly timeout?: number;
  /**
   * What a failed rail (threw, rejected, timed out, answered something that is not a verdict) means:
   * `'block'` fails closed (the window counts as blocked, verdict kind `internal_error`), `'allow'` fails open.
   * @default 'block'
   */
  readonly onError?: 'block' | 'allow';
  /**
   * The conversation the checked answer belongs to; rails receive it as `context.messages`, and the text of its
   * last user message as `context.userMessage`.
   * @default []
   */
  readonly messages?: readonly ChatMessage[];
  /**
   * Where rails record the LLM calls they make (`context.usage`): a UsageTracker or any object with `next(call)`.
   * LLM-judged rails such as `selfCheckOutput` record their judge calls there.
   * @default undefined (rails record only where they were told to when built)
   */
  readonly usage?: UsageSink;
}

/** Validates checkRail's arguments for `owner` (checkRail, guard, the LLMRails rail plan). */
export function resolveCheckSettings(owner: string, rails: unknown, options: CheckRailOptions): CheckSettings {
  assertRails(owner, rails);
  assertOptionsObject(owner, options);
  const { parallel = false, concurrency = 1, timeout, onError = 'block', messages = [], usage } = options;
  assertBoolean(owner, 'parallel', parallel);
  assertInteger(owner, 'concurrency', concurrency, 1);
  if (timeout !== undefined) assertDuration(owner, 'timeout', timeout);
  assertOneOf(owner, 'onError', onError, ['block', 'allow'] as const);
  assertMessages(owner, 'messages', messages);
  if (usage !== undefined) assertUsageSink(owner, 'usage', usage);
  return { rails: [...rails], parallel, concurrency, timeout, onError, messages, userMessage: lastUserMessage(messages), usage };
}

/**
 * Runs output rails on each window and attaches their verdicts.
 *
 * Every rail sees the window's whole `text` (context included). Windows are checked one after the other, in order
 * (with `concurrency` above 1, that many at once, reported in order). Sequentially (the default) the rails run in the given order and stop at the first that blocks; with
 * `parallel: true` they run together and the first block cancels the rest. A rail that throws, rejects, exceeds
 * `timeout` or answers something that is not a verdict fails closed unless `onError: 'allow'`.
 *
 * ```
 * source:   --x------y------z--|       rail blocks y
 * result:   --X------Y------Z--|       X, Z have `verdicts` only; Y also has `blocked`
 * ```
 *
 * - Synchronous rails are called directly, so a pipeline of synchronous rails stays synchronous.
 * - Completes when the source has completed and the last window is checked; source errors pass through.
 * - Unsubscribing aborts the `signal` of every rail still working.
 * - It only reports: stopping on a blocked window is {@link blockOnViolation}'s job.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { bufferChunks, checkRail, keywordRail } from 'rxguardrails';
 *
 * from(['The pass', 'word is ', 'swordfish']).pipe(
 *   bufferChunks({ chunkSize: 2, contextSize: 1 }),
 *   checkRail([keywordRail(['password'])]),
 * ).subscribe((batch) => console.log(batch.index, batch.blocked?.reason ?? 'ok'));
 * // 0 matched keyword "password"
 * // 1 ok
 * ```
 *
 * @param rails The rails, each with a unique `name`; validated here.
 * @param options `parallel` (default false), `concurrency` (default 1), `timeout` (ms, default none), `onError` (default 'block'),
 * `messages` (default []), `usage` (default none).
 */
export function checkRail(rails: readonly OutputRail[], options: CheckRailOptions = {}): OperatorFunction<ChunkBatch, CheckedBatch> {
  assertKnownKeys('checkRail', options, CHECK_OPTION_KEYS);
  return checkWith(resolveCheckSettings('checkRail', rails, options));
}

/** checkRail's option names (guard accepts them too). */
export const CHECK_OPTION_KEYS = ['parallel', 'concurrency', 'timeout', 'onError', 'messages', 'usage'] as const;
