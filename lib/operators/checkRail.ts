import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import {
  assertBoolean,
  assertDuration,
  assertKnownKeys,
  assertMessages,
  assertOneOf,
  assertOptionsObject,
  assertRails,
} from '../internal/validateOptions.js';
import type { ChatMessage, OutputRail, RailVerdict } from '../rails/OutputRail.js';
import type { ChunkBatch } from './bufferChunks.js';
import type { RunRailSettings } from './runRail.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';
import { WindowChecker } from './WindowChecker.js';

/** Options of {@link checkRail}. */
export interface CheckRailOptions {
  /**
   * Run the rails of a window together; the first to block wins and the others are cancelled through their
   * `AbortSignal`. Windows are still checked one after the other.
   * @default false (rails run in the given order and stop at the first block)
   */
  readonly parallel?: boolean;
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
}

/** A window with the verdicts of the rails that ran on it. */
export interface CheckedBatch extends ChunkBatch {
  /** Verdicts of the rails that decided, in rail order (a cancelled rail has none). */
  readonly verdicts: readonly RailVerdict[];
  /** The verdict that blocked this window, if one did. */
  readonly blocked?: RailVerdict;
}

/** The validated settings of checkRail, shared with guard. */
export interface CheckSettings extends RunRailSettings {
  readonly rails: readonly OutputRail[];
  readonly parallel: boolean;
}

/** Validates checkRail's arguments for `owner`. */
export function resolveCheckSettings(owner: string, rails: unknown, options: CheckRailOptions): CheckSettings {
  assertRails(owner, rails);
  assertOptionsObject(owner, options);
  const { parallel = false, timeout, onError = 'block', messages = [] } = options;
  assertBoolean(owner, 'parallel', parallel);
  if (timeout !== undefined) assertDuration(owner, 'timeout', timeout);
  assertOneOf(owner, 'onError', onError, ['block', 'allow'] as const);
  assertMessages(owner, 'messages', messages);
  const userMessage = [...messages].reverse().find((message) => message.role === 'user')?.content;
  return { rails: [...rails], parallel, timeout, onError, messages, userMessage };
}

/**
 * Runs output rails on each window and attaches their verdicts.
 *
 * Every rail sees the window's whole `text` (context included). Windows are checked strictly one after the other,
 * in order. Sequentially (the default) the rails run in the given order and stop at the first that blocks; with
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
 * @param options `parallel` (default false), `timeout` (ms, default none), `onError` (default 'block'),
 * `messages` (default []).
 */
export function checkRail(rails: readonly OutputRail[], options: CheckRailOptions = {}): OperatorFunction<ChunkBatch, CheckedBatch> {
  assertKnownKeys('checkRail', options, CHECK_OPTION_KEYS);
  return checkWith(resolveCheckSettings('checkRail', rails, options));
}

export const CHECK_OPTION_KEYS = ['parallel', 'timeout', 'onError', 'messages'] as const;

/** checkRail with validated settings. */
export function checkWith(settings: CheckSettings): OperatorFunction<ChunkBatch, CheckedBatch> {
  return (source) => new Observable<CheckedBatch>((destination) => new CheckingSubscriber(destination, settings).subscribeTo(source));
}

/** Feeds windows to a WindowChecker, which keeps them in order and one at a time, like concatMap. */
class CheckingSubscriber extends UpstreamSubscriber<ChunkBatch, CheckedBatch> {
  private readonly checker: WindowChecker;

  constructor(destination: Subscriber<CheckedBatch>, settings: CheckSettings) {
    super(destination);
    this.checker = new WindowChecker(settings, {
      checked: (batch) => destination.next(batch),
      failed: (error) => destination.error(error),
      done: () => destination.complete(),
    });
    // Unsubscribing (or an error) aborts the check in flight; completion waits for the checks.
    destination.add(() => this.checker.stop());
  }

  next(batch: ChunkBatch): void {
    if (!this.closed) this.checker.push(batch);
  }

  protected override onComplete(): void {
    this.checker.complete();
  }
}
