// Internal: the ChatModel of a `models:` entry of the config.
import { defer, from, switchMap } from 'rxjs';
import type { RailsConfig } from '../config/RailsConfig.js';
import type { ModelConfig } from '../config/railsConfigSchema.js';
import { ConfigError } from '../errors/ConfigError.js';
import { anthropicModel } from '../models/anthropicModel.js';
import type { ChatModel } from '../models/ChatModel.js';
import { openAIModel } from '../models/openAIModel.js';
import { scriptedModel } from '../models/scriptedModel.js';
import type { AnthropicClient, OpenAIChatClient, OpenAIResponsesClient } from '../sources/providerTypes.js';

/** SDK clients for the config's engines; without one, LLMRails makes its own from the environment (Node). */
export interface EngineClients {
  readonly openai?: OpenAIChatClient & Partial<OpenAIResponsesClient>;
  readonly anthropic?: AnthropicClient;
}

const DEFAULT_KEYS: Readonly<Record<string, string>> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

export function engineModel(config: RailsConfig, index: number, clients: EngineClients): ChatModel {
  const entry = config.models[index]!;
  const { model: _model, model_name: _modelName, responses, delay_ms: delayMs, ...parameters } = entry.parameters;
  const id = entry.model ?? (typeof _model === 'string' ? _model : typeof _modelName === 'string' ? _modelName : undefined);
  switch (entry.engine) {
    case 'scripted':
      return scriptedModel(responses as string[], { delayMs: (delayMs as number | undefined) ?? 0, model: id ?? 'scripted' });
    case 'openai': {
      const client = clients.openai;
      const options = { model: id!, parameters, ...(entry.api ? { api: entry.api } : {}) };
      return client ? openAIModel(client, options) : fromEnvironment(config, index, entry, async (apiKey, sdk) => openAIModel(new sdk({ apiKey }), options));
    }
    case 'anthropic': {
      const { max_tokens: maxTokens, ...rest } = parameters;
      const options = { model: id!, maxTokens: typeof maxTokens === 'number' ? maxTokens : 1024, parameters: rest };
      const client = clients.anthropic;
      return client ? anthropicModel(client, options) : fromEnvironment(config, index, entry, async (apiKey, sdk) => anthropicModel(new sdk({ apiKey }), options));
    }
  }
}

type SdkClass = new (options: { apiKey: string }) => never;

/**
 * A model whose SDK client is made on first use, with the API key from the environment. The key is checked now, so
 * a missing one fails where the rails are built; the SDK (an optional peer dependency) is imported on first use.
 */
function fromEnvironment(config: RailsConfig, index: number, entry: ModelConfig, make: (apiKey: string, sdk: SdkClass) => Promise<ChatModel>): ChatModel {
  const variable = entry.api_key_env_var ?? DEFAULT_KEYS[entry.engine]!;
  const apiKey = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[variable];
  const place = ['models', index, entry.api_key_env_var ? 'api_key_env_var' : 'engine'];
  if (!apiKey) {
    throw new ConfigError([
      config.issue(place, `engine ${entry.engine} needs an API key: set the environment variable ${variable} (or give LLMRails a client: { clients: { ${entry.engine}: ... } })`),
    ]);
  }
  const packageName = entry.engine === 'openai' ? 'openai' : '@anthropic-ai/sdk';
  let model: Promise<ChatModel> | undefined;
  const load = async (): Promise<ChatModel> => {
    let sdk: { default?: SdkClass };
    try {
      // A computed specifier: bundlers leave it alone, so the browser build never pulls an SDK in.
      sdk = (await import(/* @vite-ignore */ packageName)) as { default?: SdkClass };
    } catch (error) {
      throw new ConfigError([config.issue(place, `engine ${entry.engine} needs the ${packageName} package: npm install ${packageName}`)], { cause: error });
    }
    return make(apiKey, sdk.default ?? (sdk as unknown as SdkClass));
  };
  return {
    provider: entry.engine,
    model: entry.model ?? String(entry.parameters.model ?? entry.parameters.model_name),
    stream: (messages, options) => defer(() => from((model ??= load()))).pipe(switchMap((ready) => ready.stream(messages, options))),
  };
}
