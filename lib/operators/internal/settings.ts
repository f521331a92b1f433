// Internal: the validated settings the hand-written operators run on. The public operator files validate options
// into these (once, in their factories); guard and the LLMRails rail plan hand them to the hot path directly, so
// nothing is validated twice and nothing is re-derived per token.
import type { ChatMessage, ChunkBatch, OutputRail, RailVerdict, UsageSink } from '../../core/types.js';

/**
 * Window geometry: `chunkSize` items per window, `contextSize` of them repeated from the previous window; the first
 * window `firstChunkSize` items, windows growing from it to `chunkSize` (see WindowCutter).
 */
export interface WindowSize {
  readonly chunkSize: number;
  readonly contextSize: number;
  readonly firstChunkSize: number;
}

/** What one rail call needs besides the rail and the window. */
export interface RunRailSettings {
  readonly messages: readonly ChatMessage[];
  readonly userMessage: string | undefined;
  /** Where rails record their LLM calls (RailContext.usage). */
  readonly usage: UsageSink | undefined;
  /** Milliseconds an asynchronous answer may take; undefined = no limit. */
  readonly timeout: number | undefined;
  /** What a failed rail means for the window. */
  readonly onError: 'block' | 'allow';
  /**
   * Called as a rail is called on a window (windows come to their first rail in order, whatever `concurrency`); what
   * it returns is told the rail's verdict: how LLMRails times rail checks and reports them to telemetry. Undefined
   * (the default): nothing is timed, the hot path is unchanged.
   */
  readonly onCheck?: (batch: ChunkBatch) => (verdict: RailVerdict) => void;
}

/** How the windows are checked. */
export interface CheckSettings extends RunRailSettings {
  readonly rails: readonly OutputRail[];
  readonly parallel: boolean;
  /** How many windows may be checked at once (reported in order all the same). */
  readonly concurrency: number;
}

/** How a blocked window reaches the subscriber. */
export interface ViolationSettings {
  readonly mode: 'error' | 'chunk' | 'replace';
  readonly replacement: string;
}

/** Everything guard runs on. */
export interface GuardSettings {
  readonly size: WindowSize;
  readonly check: CheckSettings;
  readonly violation: ViolationSettings;
  readonly streamFirst: boolean;
}
