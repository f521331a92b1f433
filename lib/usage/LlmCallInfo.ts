/**
 * Token counts of one LLM call or of many. `undefined` means unknown, which is not the same as 0: a provider that
 * reported nothing has unknown usage, a provider that reported 0 tokens has 0.
 */
export interface Usage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly totalTokens?: number;
}

/** One LLM call (the main model or an LLM-judged rail), as a UsageTracker records it. */
export interface LlmCallInfo extends Usage {
  /** Unique per call. */
  readonly id: string;
  /** What the call was for, in NeMo's task names: `general`, `self_check_input`, `self_check_output`, ... */
  readonly task: string;
  /** `openai`, `anthropic`, `scripted`, or whatever a custom source reports. */
  readonly provider: string;
  readonly model: string;
  readonly durationMs: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /**
   * True when some counts are estimates: the stream ended (a violation, an unsubscription, an error) before the
   * provider sent its usage, or the provider never sends any.
   */
  readonly estimated: boolean;
  /** How the call ended. */
  readonly outcome: 'completed' | 'error' | 'cancelled';
}
