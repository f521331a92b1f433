import type { Observable } from 'rxjs';
import type { ChatMessage } from '../rails/OutputRail.js';
import type { SourceOptions } from '../sources/providerStream.js';

/** Options of one model call: the source options, plus provider parameters passed through (temperature, ...). */
export interface ChatModelCallOptions extends SourceOptions {
  readonly [parameter: string]: unknown;
}

/**
 * A chat model as the rest of rxguardrails calls it: messages in, a cold token stream out. Each subscription is
 * one call; unsubscribing aborts it. `openAIModel`, `anthropicModel` and `scriptedModel` make one; any object of
 * this shape works.
 */
export interface ChatModel {
  /** `openai`, `anthropic`, `scripted`, ...: shown in usage records. */
  readonly provider: string;
  readonly model: string;
  stream(messages: readonly ChatMessage[], options?: ChatModelCallOptions): Observable<string>;
}
