import type { LlmCallInfo } from '../core/types.js';

/** The answer of `LLMRails.generate`. */
export interface AssistantMessage {
  readonly role: 'assistant';
  readonly content: string;
}

/** What `generate` should log (NeMo's `options.log`). */
export interface GenerationLogOptions {
  /** Every LLM call of the generation: task, tokens, duration. */
  readonly llmCalls?: boolean;
  /** Every rail that ran: type, name, decisions, duration. */
  readonly activatedRails?: boolean;
}

/** A rail that ran during a generation. */
export interface ActivatedRail {
  readonly type: 'input' | 'output';
  /** The flow name, as in the config. */
  readonly name: string;
  /** One per check, in order (`allowed` or `blocked`, with the rail's reason after a colon, or `failed: <error>`), then `stop` if it stopped the answer. */
  readonly decisions: readonly string[];
  /** How many times it checked (output rails check once per window). */
  readonly checks: number;
  /** Whether it stopped the answer. */
  readonly stop: boolean;
  /** Time spent in its checks, added up. */
  readonly durationMs: number;
  /** Epoch milliseconds of its first check's start and its last check's end. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The LLM calls it made (LLM-judged rails). */
  readonly llmCalls: readonly LlmCallInfo[];
}

/** Totals of a generation (NeMo's `GenerationStats`, in milliseconds). */
export interface GenerationStats {
  readonly inputRailsDurationMs: number;
  /** The main model's call. */
  readonly generationDurationMs: number;
  readonly outputRailsDurationMs: number;
  readonly totalDurationMs: number;
  readonly llmCallsDurationMs: number;
  readonly llmCallsCount: number;
  readonly llmCallsTotalPromptTokens: number;
  readonly llmCallsTotalCompletionTokens: number;
  readonly llmCallsTotalTokens: number;
}

export interface GenerationLog {
  readonly activatedRails?: readonly ActivatedRail[];
  readonly llmCalls?: readonly LlmCallInfo[];
  readonly stats: GenerationStats;
}

/** `generate`'s answer when given `options` (NeMo's `GenerationResponse`). */
export interface GenerationResponse {
  readonly response: readonly AssistantMessage[];
  readonly log?: GenerationLog;
}
