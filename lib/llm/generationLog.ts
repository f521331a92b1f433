// Internal: the log of one generation (NeMo's GenerationLog): its LLM calls, the rails that ran, and totals.
import type { LlmCallInfo } from '../core/types.js';
import type { GenerationLog, GenerationLogOptions } from './GenerationResponse.js';
import type { RailRecorder } from './RailRecorder.js';

export function generationLog(options: GenerationLogOptions, recorded: readonly LlmCallInfo[], recorder: RailRecorder, totalDurationMs: number): GenerationLog {
  // In the order the calls started, as NeMo logs them (they are recorded when they end).
  const calls = [...recorded].sort((a, b) => a.startedAt - b.startedAt);
  const sum = (pick: (call: LlmCallInfo) => number | undefined) => calls.reduce((total, call) => total + (pick(call) ?? 0), 0);
  return {
    ...(options.activatedRails ? { activatedRails: recorder.activated(calls) } : {}),
    ...(options.llmCalls ? { llmCalls: [...calls] } : {}),
    stats: {
      inputRailsDurationMs: recorder.durationMs('input'),
      generationDurationMs: sum((call) => (call.task === 'general' ? call.durationMs : 0)),
      outputRailsDurationMs: recorder.durationMs('output'),
      totalDurationMs,
      llmCallsDurationMs: sum((call) => call.durationMs),
      llmCallsCount: calls.length,
      llmCallsTotalPromptTokens: sum((call) => call.promptTokens),
      llmCallsTotalCompletionTokens: sum((call) => call.completionTokens),
      llmCallsTotalTokens: sum((call) => call.totalTokens),
    },
  };
}
