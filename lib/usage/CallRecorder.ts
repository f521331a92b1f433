// Internal: the record of one LLM call while it streams, written to the tracker exactly once when it ends.
import { newCallId } from '../internal/callRecords.js';
import { epochMilliseconds, now } from '../internal/clock.js';
import type { ChatMessage, LlmCallInfo, Usage, UsageSink } from '../core/types.js';

export interface CallDescription {
  readonly provider: string;
  readonly model: string;
  readonly task: string;
  /** What was sent, for the prompt estimate when the provider reports no usage. */
  readonly messages: readonly ChatMessage[];
}


/**
 * Rough token counts for when a provider reports none (an aborted stream never gets its usage chunk): about four
 * characters per token, and at least one token per streamed piece (OpenAI sends one token per delta). Messages
 * add a few tokens of framing each, as chat formats do.
 */
export function estimateCompletionTokens(characters: number, pieces: number): number {
  return Math.max(pieces, Math.ceil(characters / 4));
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + 4 + Math.ceil(message.content.length / 4), messages.length > 0 ? 3 : 0);
}

export class CallRecorder {
  private readonly id = newCallId();
  private readonly started = now();
  private readonly startedAt = epochMilliseconds(this.started);
  private characters = 0;
  private pieces = 0;
  private reported: Usage = {};
  private finished = false;

  constructor(
    private readonly sink: UsageSink | undefined,
    private readonly description: CallDescription,
  ) {}

  /** Text was streamed. */
  addText(text: string): void {
    this.characters += text.length;
    this.pieces++;
  }

  /** Whether any text was streamed yet. */
  get streamed(): boolean {
    return this.pieces > 0;
  }

  /** The provider reported usage; later reports replace earlier ones field by field. */
  report(usage: Usage): void {
    this.reported = {
      promptTokens: usage.promptTokens ?? this.reported.promptTokens,
      completionTokens: usage.completionTokens ?? this.reported.completionTokens,
      totalTokens: usage.totalTokens ?? this.reported.totalTokens,
    };
  }

  /** Records the call; only the first call of finish counts. */
  finish(outcome: LlmCallInfo['outcome']): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.sink) return;
    const { promptTokens, completionTokens, totalTokens } = this.reported;
    const prompt = promptTokens ?? estimatePromptTokens(this.description.messages);
    const completion = completionTokens ?? estimateCompletionTokens(this.characters, this.pieces);
    const durationMs = Math.max(0, now() - this.started);
    this.sink.next({
      id: this.id,
      task: this.description.task,
      provider: this.description.provider,
      model: this.description.model,
      promptTokens: prompt,
      completionTokens: completion,
      totalTokens: totalTokens ?? prompt + completion,
      durationMs,
      startedAt: this.startedAt,
      finishedAt: this.startedAt + durationMs,
      estimated: promptTokens === undefined || completionTokens === undefined,
      outcome,
    });
  }
}
