// Internal: the ChatModel of a `models:` entry of the config.
import { defer, from, switchMap } from 'rxjs';
import type { ChatModel } from '../core/types.js';
import type { RailsConfig } from '../config/RailsConfig.js';
import {
  type AnthropicModelConfig,
  baseUrl,
  DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  type ModelConfig,
  modelId,
  NVIDIA_API_CATALOG_URL,
  type OpenAIModelConfig,
  requestParameters,
  UPSTREAM_TIMEOUT_ENV_VAR,
} from '../config/railsConfigSchema.js';
import { ConfigError } from '../errors/ConfigError.js';
import { anthropicModel } from '../models/anthropicModel.js';
import { openAIModel } from '../models/openAIModel.js';
import { scriptedModel } from '../models/scriptedModel.js';
import { eventWiseFetch } from '../sources/eventWiseFetch.js';
import type { AnthropicClient, OpenAIChatClient, OpenAIResponsesClient } from '../sources/providerTypes.js';
import type { StreamingPost } from '../sources/streamingPost.js';
import { environmentVariable } from '../internal/environmentVariable.js';

/** SDK clients for the config's engines; without one, LLMRails makes its own from the environment (Node). */
export interface EngineClients {
  readonly openai?: OpenAIChatClient & Partial<OpenAIResponsesClient>;
  readonly anthropic?: AnthropicClient;
  /**
   * The HTTP client of the OpenAI-compatible engines the config makes itself (no `openai` client given), for their
   * streaming Chat Completions. The server (`rxguardrails/server`) gives Node's own, over keep-alive connections.
   * @default the platform's fetch
   */
  readonly http?: StreamingPost;
}

/** Where each engine's API key is unless `api_key_env_var` says (vllm_openai: a key only when one is named). */
const DEFAULT_KEYS: Readonly<Record<string, string>> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', nim: 'NVIDIA_API_KEY', nvidia_ai_endpoints: 'NVIDIA_API_KEY' };

/** What a self-hosted OpenAI-compatible server (vLLM, a local NIM) gets as its key when none is set, as LangChain sends. */
const NO_KEY = 'EMPTY';

/**
 * The model of `models[index]`, its waits bounded (see {@link upstreamOf}). Clients made from the environment get
 * the SDK's `timeout` set to the first-token bound and `maxRetries` from the config (default 0), so a stalled or
 * rate-limited provider is reported within the bound, and a fetch that hands the SDK a streamed body an event at a
 * time (see eventWiseFetch.ts). Their Chat Completions stream without the SDK (fetchOpenAIChat.ts), from the
 * endpoint the SDK client would call; clients given in `clients` keep the SDK path and their own settings, and the
 * bounds (which count the SDK's retries in the first-token wait) still hold.
 */
export function engineModel(config: RailsConfig, index: number, clients: EngineClients): ChatModel {
  const entry = config.models[index]!;
  const { timeout, maxRetries } = upstreamOf(config, entry);
  const sdkOptions = (apiKey: string, baseURL?: string) => ({ apiKey, maxRetries, timeout: Math.ceil(timeout.firstTokenMs), fetch: eventWiseFetch(), ...(baseURL ? { baseURL } : {}) });
  switch (entry.engine) {
    case 'scripted': {
      const { responses, delay_ms: delayMs = 0 } = entry.parameters;
      return scriptedModel(responses, { delayMs, model: modelId(entry) ?? 'scripted', timeout });
    }
    case 'openai':
    case 'nim':
    case 'nvidia_ai_endpoints':
    case 'vllm_openai': {
      const options = { model: modelId(entry)!, parameters: requestParameters(entry), timeout, ...(entry.api ? { api: entry.api } : {}) };
      // NeMo's NVIDIA engines default to the API catalog; an entry with a server of its own gets a client of its own.
      const base = baseUrl(entry) ?? (entry.engine === 'nim' || entry.engine === 'nvidia_ai_endpoints' ? NVIDIA_API_CATALOG_URL : undefined);
      const client = base === undefined ? clients.openai : undefined;
      return client
        ? openAIModel(client, options)
        : fromEnvironment(
            config,
            index,
            entry,
            async (apiKey, sdk) => {
              const sdkClient = new sdk(sdkOptions(apiKey, base));
              if (options.api === 'responses') return openAIModel(sdkClient, options);
              // Chat Completions stream without the SDK (see fetchOpenAIChat.ts), from where the SDK client would
              // call with what it would send: its base URL, key, organization and project (it reads
              // OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID), and the config's retries.
              const { openAIEndpointModel, endpointOf } = await import('../models/openAIEndpointModel.js');
              return openAIEndpointModel(endpointOf(sdkClient, apiKey, maxRetries, clients.http), options);
            },
            baseUrl(entry) !== undefined,
          );
    }
    case 'anthropic': {
      const { model: _model, model_name: _modelName, max_tokens: maxTokens = 1024, ...parameters } = entry.parameters;
      const options = { model: modelId(entry)!, maxTokens, parameters, timeout };
      const client = clients.anthropic;
      return client ? anthropicModel(client, options) : fromEnvironment(config, index, entry, (apiKey, sdk) => anthropicModel(new sdk(sdkOptions(apiKey)), options));
    }
  }
}

/** The waits of a model made from the config, and the SDK retries of a client made from the environment. */
export interface UpstreamSettings {
  readonly timeout: { readonly firstTokenMs: number; readonly idleMs: number };
  readonly maxRetries: number;
}

/**
 * Each wait's bound: the models entry's own key, its `upstream.timeout_ms`, the top-level `upstream`'s key, its
 * `timeout_ms`, then RXGUARDRAILS_UPSTREAM_TIMEOUT_MS, then the default (60 s for the first token, 30 s idle).
 * @throws ConfigError when RXGUARDRAILS_UPSTREAM_TIMEOUT_MS is set to anything but a positive number.
 */
export function upstreamOf(config: RailsConfig, entry: ModelConfig): UpstreamSettings {
  const top = config.data.upstream ?? {};
  const own = entry.upstream ?? {};
  const environment = environmentTimeout(config);
  return {
    timeout: {
      firstTokenMs: own.first_token_timeout_ms ?? own.timeout_ms ?? top.first_token_timeout_ms ?? top.timeout_ms ?? environment ?? DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
      idleMs: own.idle_timeout_ms ?? own.timeout_ms ?? top.idle_timeout_ms ?? top.timeout_ms ?? environment ?? DEFAULT_IDLE_TIMEOUT_MS,
    },
    maxRetries: own.max_retries ?? top.max_retries ?? 0,
  };
}

function environmentTimeout(config: RailsConfig): number | undefined {
  const value = environmentVariable(UPSTREAM_TIMEOUT_ENV_VAR)?.trim();
  if (value === undefined || value === '') return undefined;
  const milliseconds = Number(value);
  if (!(milliseconds > 0) || !Number.isFinite(milliseconds)) {
    throw new ConfigError([
      { file: config.files.at(-1) ?? '<content>', message: `the environment variable ${UPSTREAM_TIMEOUT_ENV_VAR} must be a positive number of milliseconds, got ${JSON.stringify(value)}` },
    ]);
  }
  return milliseconds;
}

type SdkClass = new (options: { apiKey: string; maxRetries: number; timeout: number; fetch: typeof fetch; baseURL?: string }) => never;

/**
 * A model whose SDK client is made on first use, with the API key from the environment (or `parameters.api_key`).
 * The key is checked now, so a missing one fails where the rails are built; the SDK (an optional peer dependency)
 * is imported on first use. A self-hosted server (`selfHosted`: the entry names its base URL) of a NIM or vLLM needs
 * no key unless the entry names its variable, as NeMo reads them.
 */
function fromEnvironment(
  config: RailsConfig,
  index: number,
  entry: OpenAIModelConfig | AnthropicModelConfig,
  make: (apiKey: string, sdk: SdkClass) => ChatModel | Promise<ChatModel>,
  selfHosted = false,
): ChatModel {
  const variable = entry.api_key_env_var ?? DEFAULT_KEYS[entry.engine];
  const given = (entry.parameters as { api_key?: string }).api_key;
  const optional = entry.api_key_env_var === undefined && (entry.engine === 'vllm_openai' || (selfHosted && entry.engine !== 'openai'));
  const apiKey = given ?? (variable === undefined ? undefined : environmentVariable(variable)) ?? (optional ? NO_KEY : undefined);
  const place = ['models', index, entry.api_key_env_var ? 'api_key_env_var' : 'engine'];
  if (!apiKey) {
    // The machine's problem, not the config's: a server can still serve its other configs.
    const instead =
      entry.engine === 'anthropic' || (entry.engine === 'openai' && !selfHosted)
        ? `a client: { clients: { ${entry.engine}: ... } }`
        : `the model: { models: { ${entry.type}: ... } }`;
    const issue = config.issue(
      place,
      `${entry.api_key_env_var ? `Model API Key environment variable '${variable}' not set: ` : ''}engine ${entry.engine} needs an API key: set the environment variable ${variable} (or give LLMRails ${instead})`,
    );
    throw new ConfigError([{ ...issue, environment: variable! }]);
  }
  const packageName = entry.engine === 'anthropic' ? '@anthropic-ai/sdk' : 'openai';
  let model: Promise<ChatModel> | undefined;
  /** The model once made: its calls start at once, not a promise callback later (warmUp() makes it before a server listens). */
  let made: ChatModel | undefined;
  const load = async (): Promise<ChatModel> => {
    let sdk: { default?: SdkClass };
    try {
      // A computed specifier: bundlers leave it alone, so the browser build never pulls an SDK in.
      sdk = (await import(/* @vite-ignore */ packageName)) as { default?: SdkClass };
    } catch (error) {
      throw new ConfigError([{ ...config.issue(place, `engine ${entry.engine} needs the ${packageName} package: npm install ${packageName}`), environment: packageName }], { cause: error });
    }
    made = await make(apiKey, sdk.default ?? (sdk as unknown as SdkClass));
    return made;
  };
  const chatModel: ChatModel = {
    provider: entry.engine,
    model: modelId(entry)!,
    stream: (messages, options) =>
      made ? defer(() => made!.stream(messages, options)) : defer(() => from((model ??= load()))).pipe(switchMap((ready) => ready.stream(messages, options))),
  };
  loaders.set(chatModel, () => (model ??= load()));
  return chatModel;
}

/** The SDK import of each model made from the environment, for {@link loadEngine}. */
const loaders = new WeakMap<ChatModel, () => Promise<ChatModel>>();

/**
 * Imports the SDK of a model made from the environment now rather than on its first call, and readies the fetch it
 * will use (loading them holds the event loop for tens of ms, which a server's first requests would wait for).
 * Other models need nothing.
 * @throws ConfigError (rejects) when the SDK package is not installed.
 */
export async function loadEngine(model: ChatModel): Promise<void> {
  const load = loaders.get(model);
  if (!load) return;
  await Promise.all([load(), (fetchReady ??= primeFetch())]);
}

let fetchReady: Promise<void> | undefined;

/**
 * The platform's fetch made ready for the SDKs' first request: Node loads its fetch (undici) on the first call, about
 * 25 ms of the event loop. A `data:` URL is answered without any network.
 */
async function primeFetch(): Promise<void> {
  await globalThis
    .fetch?.('data:,')
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
}
