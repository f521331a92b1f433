// Internal: the Chat Completions model of an OpenAI-compatible engine the config makes itself, streaming through
// fetchOpenAIChat (no SDK on the streaming path). openAIModel is the public one, on a client the user gives.
import type { ChatModel, SourceOptions } from '../core/types.js';
import { fetchOpenAIChat, type OpenAIEndpoint } from '../sources/fetchOpenAIChat.js';
import { upstreamBounds } from '../sources/upstreamTimeout.js';
import { splitCallOptions } from './splitCallOptions.js';

export interface OpenAIEndpointModelOptions {
  readonly model: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly timeout?: SourceOptions['timeout'];
}

/** What openAIModel(client, { api: 'chat', ... }) gives, from the endpoint the client would call. */
export function openAIEndpointModel(endpoint: OpenAIEndpoint, options: OpenAIEndpointModelOptions): ChatModel {
  const { model, parameters = {} } = options;
  const bounds = upstreamBounds('openAIModel', options.timeout);
  return {
    provider: 'openai',
    model,
    stream: (messages, callOptions = {}) => {
      const { source, parameters: callParameters } = splitCallOptions('openAIModel', callOptions, bounds);
      const list = messages.map(({ role, content }) => ({ role, content }));
      return fetchOpenAIChat(endpoint, { ...parameters, ...callParameters, model, messages: list }, source);
    },
  };
}
