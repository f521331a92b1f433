import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertOneOf, describeValue } from '../internal/validateOptions.js';
import { fromOpenAI } from '../sources/fromOpenAI.js';
import { fromOpenAIResponses } from '../sources/fromOpenAIResponses.js';
import type { OpenAIChatClient, OpenAIResponsesClient } from '../sources/providerTypes.js';
import type { ChatModel, SourceOptions } from '../core/types.js';
import { providerModel } from './providerModel.js';

/** Options of {@link openAIModel}. */
export interface OpenAIModelOptions {
  /** The model id, e.g. `gpt-4o-mini`. */
  readonly model: string;
  /** Request parameters sent with every call (temperature, max_tokens, ...); per-call options override them. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /**
   * Which API to call: Chat Completions or Responses.
   * @default 'chat'
   */
  readonly api?: 'chat' | 'responses';
  /**
   * Bounds on the waits of every call, in ms: a number for both, or `{ firstTokenMs, idleMs }` (see
   * `SourceOptions.timeout`); a call's own `timeout` overrides them wait by wait.
   * @default no bound
   */
  readonly timeout?: SourceOptions['timeout'];
}

/**
 * A {@link ChatModel} on an OpenAI client, streaming through {@link fromOpenAI} (or {@link fromOpenAIResponses}).
 *
 * ## Example
 * ```ts
 * import OpenAI from 'openai';
 * import { openAIModel, UsageTracker } from 'rxguardrails';
 *
 * const model = openAIModel(new OpenAI(), { model: 'gpt-4o-mini', parameters: { temperature: 0.2 } });
 * model.stream([{ role: 'user', content: 'Hi!' }], { usage: new UsageTracker() }).subscribe(console.log);
 * ```
 *
 * @param client An `openai` client.
 * @param options `model` (required), `parameters`, `api` (default 'chat'), `timeout` (default none).
 */
export function openAIModel(client: OpenAIChatClient & Partial<OpenAIResponsesClient>, options: OpenAIModelOptions): ChatModel {
  assertKnownKeys('openAIModel', options, ['model', 'parameters', 'api', 'timeout']);
  const { model, parameters = {}, api = 'chat' } = options;
  assertModelName('openAIModel', model);
  assertOneOf('openAIModel', 'api', api, ['chat', 'responses'] as const);
  return providerModel('openAIModel', { provider: 'openai', model, timeout: options.timeout }, (messages, callParameters, source) => {
    const list = messages.map(({ role, content }) => ({ role, content }));
    return api === 'chat'
      ? fromOpenAI(client, { ...parameters, ...callParameters, model, messages: list }, source)
      : fromOpenAIResponses(client as OpenAIResponsesClient, { ...parameters, ...callParameters, model, input: list }, source);
  });
}

export function assertModelName(owner: string, model: unknown): asserts model is string {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidOptionError('model', model, `${owner}: model must be a non-empty model id, got ${describeValue(model)}`);
  }
}
