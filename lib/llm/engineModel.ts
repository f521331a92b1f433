// Internal: the ChatModel of a `models:` entry of the config.
import { defer, from, switchMap } from 'rxjs';
import type { ChatModel } from '../core/types.js';
import type { RailsConfig } from '../config/RailsConfig.js';
import { type AnthropicModelConfig, modelId, type OpenAIModelConfig, requestParameters } from '../config/railsConfigSchema.js';
import { ConfigError } from '../errors/ConfigError.js';
import { anthropicModel } from '../models/anthropicModel.js';
import { openAIModel } from '../models/openAIModel.js';
import { scriptedModel } from '../models/scriptedModel.js';
import type { AnthropicClient, OpenAIChatClient, OpenAIResponsesClient } from '../sources/providerTypes.js';

/** SDK clients for the config's engines; without one, LLMRails makes its own from the environment (Node). */
export interface EngineClients {
  readonly openai?: OpenAIChatClient & Partial<OpenAIResponsesClient>;
  readonly anthropic?: AnthropicClient;
}

const DEFAULT_KEYS = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' } as const;
const PACKAGES = { openai: 'openai', anthropic: '@anthropic-ai/sdk' } as const;

export function engineModel(config: RailsConfig, index: number, clients: EngineClients): ChatModel {
  const entry = config.models[index]!;
  switch (entry.engine) {
    case 'scripted': {
      const { responses, delay_ms: delayMs = 0 } = entry.parameters;
      return scriptedModel(responses, { delayMs, model: modelId(entry) ?? 'scripted' });
    }
    case 'openai': {
      const options = { model: modelId(entry)!, parameters: requestParameters(entry), ...(entry.api ? { api: entry.api } : {}) };
      const client = clients.openai;
      return client ? openAIModel(client, options) : fromEnvironment(config, index, entry, (apiKey, sdk) => openAIModel(new sdk({ apiKey }), options));
    }
    case 'anthropic': {
      const { model: _model, model_name: _modelName, max_tokens: maxTokens = 1024, ...parameters } = entry.parameters;
      const options = { model: modelId(entry)!, maxTokens, parameters };
      const client = clients.anthropic;
      return client ? anthropicModel(client, options) : fromEnvironment(config, index, entry, (apiKey, sdk) => anthropicModel(new sdk({ apiKey }), options));
    }
  }
}

type SdkClass = new (options: { apiKey: string }) => never;

/**
 * A model whose SDK client is made on first use, with the API key from the environment. The key is checked now, so
 * a missing one fails where the rails are built; the SDK (an optional peer dependency) is imported on first use.
 */
function fromEnvironment(
  config: RailsConfig,
  index: number,
  entry: OpenAIModelConfig | AnthropicModelConfig,
  make: (apiKey: string, sdk: SdkClass) => ChatModel,
): ChatModel {
  const variable = entry.api_key_env_var ?? DEFAULT_KEYS[entry.engine];
  const apiKey = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[variable];
  const place = ['models', index, entry.api_key_env_var ? 'api_key_env_var' : 'engine'];
  if (!apiKey) {
    throw new ConfigError([
      config.issue(place, `engine ${entry.engine} needs an API key: set the environment variable ${variable} (or give LLMRails a client: { clients: { ${entry.engine}: ... } })`),
    ]);
  }
  const packageName = PACKAGES[entry.engine];
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
    model: modelId(entry)!,
    stream: (messages, options) => defer(() => from((model ??= load()))).pipe(switchMap((ready) => ready.stream(messages, options))),
  };
}
