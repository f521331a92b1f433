import { concatMap, isObservable, map, merge, type Observable, type ObservableInput, type OperatorFunction, takeWhile, toArray } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import {
  assertBoolean,
  assertDuration,
  assertKnownKeys,
  assertOneOf,
  assertOptionsObject,
  assertRails,
  describeValue,
} from '../internal/validateOptions.js';
import type { ChatMessage, OutputRail, RailVerdict } from '../rails/OutputRail.js';
import type { ChunkBatch } from './bufferChunks.js';
import { railVerdict$, runRail, type RunRailSettings } from './runRail.js';

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
  assertMessages(owner, messages);
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
  // concatMap: one window at a time, in order; a window arriving during a check waits. It calls the project only
  // when the window's turn comes, so the rails of a waiting window have not started.
  return concatMap((batch) => (settings.parallel ? checkInParallel(batch, settings) : checkInSequence(batch, settings)));
}

/**
 * Called by concatMap when the window's turn comes. While the rails answer synchronously it stays synchronous and
 * returns a one-element array (the cheapest ObservableInput: it runs once per window).
 */
function checkInSequence(batch: ChunkBatch, settings: CheckSettings): ObservableInput<CheckedBatch> {
  return continueFrom(0, []);

  function continueFrom(start: number, verdicts: RailVerdict[]): ObservableInput<CheckedBatch> {
    for (let position = start; position < settings.rails.length; position++) {
      const outcome = runRail(settings.rails[position]!, batch, settings);
      if (isObservable(outcome)) {
        return outcome.pipe(concatMap((verdict) => settle(verdict, verdicts, position)));
      }
      verdicts.push(outcome);
      if (!outcome.allowed) return [checked(batch, verdicts, outcome)];
    }
    return [checked(batch, verdicts, undefined)];
  }

  function settle(verdict: RailVerdict, verdicts: RailVerdict[], position: number): ObservableInput<CheckedBatch> {
    verdicts.push(verdict);
    return verdict.allowed ? continueFrom(position + 1, verdicts) : [checked(batch, verdicts, verdict)];
  }
}

function checkInParallel(batch: ChunkBatch, settings: CheckSettings): Observable<CheckedBatch> {
  const positioned$ = settings.rails.map((rail, position) =>
    railVerdict$(rail, batch, settings).pipe(map((verdict) => ({ position, verdict }))),
  );
  return merge(...positioned$).pipe(
    // The first block ends the merge, which unsubscribes (and so aborts) the rails still working and keeps any
    // rail not yet started from being called.
    takeWhile(({ verdict }) => verdict.allowed, true),
    toArray(),
    map((decided): CheckedBatch => {
      const blocked = decided.find(({ verdict }) => !verdict.allowed)?.verdict;
      const verdicts = decided.sort((a, b) => a.position - b.position).map(({ verdict }) => verdict);
      return checked(batch, verdicts, blocked);
    }),
  );
}

/**
 * Spelled out rather than `{ ...batch, verdicts }`: on Node 20 a spread followed by an added property falls off
 * V8's fast path and costs about a microsecond, once per window.
 */
function checked(batch: ChunkBatch, verdicts: readonly RailVerdict[], blocked: RailVerdict | undefined): CheckedBatch {
  return {
    index: batch.index,
    text: batch.text,
    chunks: batch.chunks,
    final: batch.final,
    overlap: batch.overlap,
    verdicts,
    blocked,
  };
}

function assertMessages(owner: string, messages: unknown): asserts messages is readonly ChatMessage[] {
  if (!Array.isArray(messages)) {
    throw new InvalidOptionError('messages', messages, `${owner}: messages must be an array of { role, content }, got ${describeValue(messages)}`);
  }
  messages.forEach((message: unknown, position) => {
    const { role, content } = (message ?? {}) as Partial<ChatMessage>;
    if (typeof role !== 'string' || typeof content !== 'string') {
      throw new InvalidOptionError(
        `messages[${position}]`,
        message,
        `${owner}: messages[${position}] must be { role: string, content: string }, got ${describeValue(message)}`,
      );
    }
  });
}
