// Internal: the Chat Completions model of an OpenAI-compatible engine the config makes itself, streaming through
// fetchOpenAIChat (no SDK on the streaming path). openAIModel is the public one, on a client the user gives.
import type { ChatModel, SourceOptions } from '../core/types.js';
import { fetchOpenAIChat, type OpenAIEndpoint } from '../sources/fetchOpenAIChat.js';
import type { StreamingPost } from '../sources/streamingPost.js';
import { providerModel } from './providerModel.js';

export interface OpenAIEndpointModelOptions {
  readonly model: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly timeout?: SourceOptions['timeout'];
}

/** What openAIModel(client, { api: 'chat', ... }) gives, from the endpoint the client would call. */
export function openAIEndpointModel(endpoint: OpenAIEndpoint, options: OpenAIEndpointModelOptions): ChatModel {
  const { model, parameters = {}, timeout } = options;
  return providerModel('openAIModel', { provider: 'openai', model, timeout }, (messages, callParameters, source) => {
    const list = messages.map(({ role, content }) => ({ role, content }));
    return fetchOpenAIChat(endpoint, { ...parameters, ...callParameters, model, messages: list }, source);
  });
}

/**
 * The endpoint an openai SDK client calls, from its public fields (it has read OPENAI_BASE_URL, OPENAI_ORG_ID and
 * OPENAI_PROJECT_ID when they were not given), with the config's key and retries, called through `post` (the
 * platform's fetch when not given).
 */
export function endpointOf(client: unknown, apiKey: string, maxRetries: number, post?: StreamingPost): OpenAIEndpoint {
  const { baseURL, organization, project } = client as { baseURL?: unknown; organization?: unknown; project?: unknown };
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return { baseURL: text(baseURL) ?? 'https://api.openai.com/v1', apiKey, organization: text(organization), project: text(project), maxRetries, ...(post ? { post } : {}) };
}
