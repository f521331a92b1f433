import type { Observable } from 'rxjs';
import type { ChunkBatch } from '../operators/bufferChunks.js';

/** One message of a chat conversation, as OpenAI-style APIs exchange them. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  readonly content: string;
}

/** Where a rail found what it objects to, inside the window text it was given. */
export interface RailMatch {
  /** The matched text, as it appears in the window. */
  readonly text: string;
  /** Offset of the match in the window text. */
  readonly index: number;
}

/** What a rail may answer with, besides a plain boolean (`true` = allowed). */
export interface RailDecision {
  readonly allowed: boolean;
  /** Why, in words a log reader understands ("matched keyword \"secret\""). */
  readonly reason?: string;
  readonly match?: RailMatch;
  /** Anything else the rail wants to report (scores, categories). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Everything a rail check may return: synchronously, as a Promise, or as an Observable (its first value counts). */
export type RailResult = boolean | RailDecision;

/**
 * A rail's decision on one window, as `checkRail` records it.
 * - `kind: 'pass'`: the rail allowed the window.
 * - `kind: 'violation'`: the rail blocked it.
 * - `kind: 'internal_error'`: the rail threw, rejected, timed out or answered nothing; `allowed` then follows the
 *   `onError` policy (fail closed by default) and `error` holds what went wrong.
 */
export interface RailVerdict extends RailDecision {
  /** Name of the rail that decided. */
  readonly rail: string;
  readonly kind: 'pass' | 'violation' | 'internal_error';
  readonly error?: unknown;
}

/** What a rail knows besides the window text. */
export interface RailContext {
  /** Text of the last user message, when the pipeline was given messages. */
  readonly userMessage?: string;
  /** The conversation the guarded answer belongs to (empty when none was given). */
  readonly messages: readonly ChatMessage[];
  /** The window being checked. */
  readonly batch: ChunkBatch;
  /**
   * Aborts when the check is no longer wanted: the pipeline was unsubscribed (a violation, the consumer left) or,
   * in parallel mode, a sibling rail already blocked this window. Pass it on to `fetch`/SDK calls.
   */
  readonly signal: AbortSignal;
}

/**
 * An output rail: a named check of the text of each window.
 *
 * `check` may answer synchronously (and then stays synchronous, so marble tests can drive it), with a Promise, or
 * with an Observable whose first value counts. `true` or `{ allowed: true }` means allowed.
 */
export interface OutputRail {
  /** Unique within a pipeline; shown in verdicts and in NeMo's error payload (`Blocked by <name> rails.`). */
  readonly name: string;
  check(text: string, context: RailContext): RailResult | PromiseLike<RailResult> | Observable<RailResult>;
}
