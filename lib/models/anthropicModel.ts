import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import { fromAnthropic } from '../sources/fromAnthropic.js';
import type { AnthropicClient } from '../sources/providerTypes.js';
import type { ChatModel, SourceOptions } from '../core/types.js';
import { assertModelName } from './openAIModel.js';
import { providerModel } from './providerModel.js';

/** Options of {@link anthropicModel}. */
export interface AnthropicModelOptions {
  /** The model id, e.g. `claude-opus-4-7`. */
  readonly model: string;
  /**
   * `max_tokens` of every call (the Messages API requires one); a per-call `max_tokens` overrides it.
   * @default 1024
   */
  readonly maxTokens?: number;
  /** Request parameters sent with every call (temperature, ...). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /**
   * Bounds on the waits of every call, in ms: a number for both, or `{ firstTokenMs, idleMs }` (see
   * `SourceOptions.timeout`); a call's own `timeout` overrides them wait by wait.
   * @default no bound
   */
  readonly timeout?: SourceOptions['timeout'];
}

/**
 * A {@link ChatModel} on an Anthropic client, streaming through {@link fromAnthropic}. System messages become the
 * request's `system` text (joined by blank lines); the other messages keep their order.
 *
 * ## Example
 * ```ts
 * import Anthropic from '@anthropic-ai/sdk';
 * import { anthropicModel } from 'rxguardrails';
 *
 * const model = anthropicModel(new Anthropic(), { model: 'claude-opus-4-7', maxTokens: 512 });
 * model.stream([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }]).subscribe(console.log);
 * ```
 *
 * @param client An `@anthropic-ai/sdk` client.
 * @param options `model` (required), `maxTokens` (default 1024), `parameters`, `timeout` (default none).
 */
export function anthropicModel(client: AnthropicClient, options: AnthropicModelOptions): ChatModel {
  assertKnownKeys('anthropicModel', options, ['model', 'maxTokens', 'parameters', 'timeout']);
  const { model, maxTokens = 1024, parameters = {} } = options;
  assertModelName('anthropicModel', model);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new InvalidOptionError('maxTokens', maxTokens, `anthropicModel: maxTokens must be a positive integer, got ${describeValue(maxTokens)}`);
  }
  return providerModel('anthropicModel', { provider: 'anthropic', model, timeout: options.timeout }, (messages, callParameters, source) => {
    const system = messages.filter((message) => message.role === 'system').map((message) => message.content);
    const turns = messages.filter((message) => message.role !== 'system').map(({ role, content }) => ({ role, content }));
    return fromAnthropic(
      client,
      { max_tokens: maxTokens, ...parameters, ...callParameters, model, messages: turns, ...(system.length > 0 ? { system: system.join('\n\n') } : {}) },
      source,
    );
  });
}
