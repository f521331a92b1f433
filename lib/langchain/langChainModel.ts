import type { ChatMessage, ChatModel, SourceOptions } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertMessages, describeValue } from '../internal/validateOptions.js';
import { splitCallOptions } from '../models/splitCallOptions.js';
import { upstreamBounds } from '../sources/upstreamTimeout.js';
import { fromLangChain } from './fromLangChain.js';
import type { LangChainCallParameters, LangChainChatModel, LangChainMessageLike, LangChainStream } from './langChainTypes.js';

/** Options of {@link langChainModel}. */
export interface LangChainModelOptions {
  /**
   * The provider in usage records and errors.
   * @default the model's own LangSmith name (`getLsParams().ls_provider`: `openai`, `ollama`, `google_genai`, ...),
   *   else 'langchain'
   */
  readonly provider?: string;
  /**
   * The model in usage records.
   * @default the model's own (`getLsParams().ls_model_name`, else its `model` or `modelName` field), else 'unknown'
   */
  readonly model?: string;
  /**
   * The LangChain model to call with the generation parameters rxguardrails asks for: `temperature` and
   * `maxTokens` (the self-check rails ask for NeMo's lowest temperature and a few tokens; `llmParams` may carry
   * them). LangChain has no per-call option for these (each integration takes them when constructed), so without
   * `configure` they are not sent and the model's own settings apply. Return the model itself, a configured copy
   * (`({ temperature }) => new ChatOllama({ model: 'llama3.2', temperature })`), or a configurable model's
   * `withConfig({ configurable: { temperature } })`.
   * @default none: temperature and max tokens are the model's own
   */
  readonly configure?: (parameters: LangChainCallParameters) => LangChainChatModel;
  /**
   * Bounds on the waits of every call, in ms: a number for both, or `{ firstTokenMs, idleMs }` (see
   * `SourceOptions.timeout`); a call's own `timeout` overrides them wait by wait.
   * @default no bound
   */
  readonly timeout?: SourceOptions['timeout'];
}

const OWNER = 'langChainModel';
const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * Any LangChain.js chat model (`BaseChatModel`: Gemini, Bedrock, Ollama, Mistral, ...) as a {@link ChatModel}, so
 * `LLMRails` can use it as the main model or as a judge, streaming through {@link fromLangChain}.
 *
 * Messages become LangChain's `{ role, content }` messages (roles `system`, `user`, `assistant`; any other role is
 * an InvalidOptionError, as LangChain's tool messages need a tool call id rxguardrails messages do not have). Call
 * options: `signal`, `usage`, `task`, `timeout` and `demand` work as for every model (unsubscribing aborts the
 * LangChain call); `stop` (a string or a list) is sent as LangChain's `stop` call option; `temperature` and
 * `max_tokens` / `maxTokens` go to `configure` (see {@link LangChainModelOptions.configure}); any other parameter is
 * passed through as a LangChain call option (`tool_choice`, provider-specific ones).
 *
 * ## Example
 * ```ts
 * import { FakeListChatModel } from '@langchain/core/utils/testing';
 * import { LLMRails, RailsConfig } from 'rxguardrails';
 * import { langChainModel } from 'rxguardrails/langchain';
 *
 * const chat = new FakeListChatModel({ responses: ['Paris.'] }); // or new ChatOllama({ model: 'llama3.2' }), ...
 * const rails = new LLMRails(RailsConfig.fromContent({ yamlContent: 'models: []' }), { models: { main: langChainModel(chat) } });
 * rails.stream([{ role: 'user', content: 'Capital of France?' }]).subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param chatModel A LangChain chat model, or one bound with `.withConfig()` (anything with `stream(messages, options)`).
 * @param options `provider`, `model` (default: the model's own names), `configure` (default none), `timeout` (default none).
 */
export function langChainModel(chatModel: LangChainChatModel, options: LangChainModelOptions = {}): ChatModel {
  assertChatModel('chatModel', chatModel);
  assertKnownKeys(OWNER, options, ['provider', 'model', 'configure', 'timeout']);
  const { configure } = options;
  if (configure !== undefined && typeof configure !== 'function') {
    throw new InvalidOptionError('configure', configure, `${OWNER}: configure must be a function of the call's parameters returning a LangChain chat model, got ${describeValue(configure)}`);
  }
  const bounds = upstreamBounds(OWNER, options.timeout);
  const own = ownNames(chatModel);
  const provider = options.provider ?? own.provider ?? 'langchain';
  const model = options.model ?? own.model ?? 'unknown';
  for (const [option, value] of [['provider', provider], ['model', model]] as const) {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new InvalidOptionError(option, value, `${OWNER}: ${option} must be a non-empty string, got ${describeValue(value)}`);
    }
  }
  return {
    provider,
    model,
    stream: (messages, callOptions = {}) => {
      assertMessages(`${OWNER}.stream`, 'messages', messages);
      const sent = messages.map(toLangChainMessage);
      const { source, parameters } = splitCallOptions(OWNER, callOptions, bounds);
      const { generation, passed } = splitParameters(parameters);
      const target = configure === undefined ? chatModel : configure(generation);
      if (configure !== undefined) assertChatModel('configure', target, 'what configure returned');
      const stream = target.stream as unknown as (input: readonly LangChainMessageLike[], options: object) => PromiseLike<LangChainStream>;
      const stop = generation.stop === undefined ? {} : { stop: [...generation.stop] };
      return fromLangChain((signal) => stream.call(target, sent, { ...passed, ...stop, signal }), { ...source, provider, model, messages });
    },
  };
}

function assertChatModel(option: 'chatModel' | 'configure', value: unknown, label: string = option): asserts value is LangChainChatModel {
  if (value === null || typeof value !== 'object' || typeof (value as { stream?: unknown }).stream !== 'function') {
    throw new InvalidOptionError(
      option,
      value,
      `${OWNER}: ${label} must be a LangChain chat model (anything with stream(messages, options): ChatOllama, ChatGoogleGenerativeAI, model.withConfig(...)), got ${describeValue(value)}`,
    );
  }
}

function toLangChainMessage(message: ChatMessage, position: number): LangChainMessageLike {
  if (!ROLES.has(message.role)) {
    throw new InvalidOptionError(
      `messages[${position}].role`,
      message.role,
      `${OWNER}.stream: messages[${position}].role must be 'system', 'user' or 'assistant' (LangChain's tool messages need a tool call id), got ${describeValue(message.role)}`,
    );
  }
  return { role: message.role as LangChainMessageLike['role'], content: message.content };
}

/** The generation parameters (checked, in LangChain's names) and the call options passed through as they are. */
function splitParameters(parameters: Record<string, unknown>): { generation: LangChainCallParameters; passed: Record<string, unknown> } {
  const { temperature, max_tokens: maxTokensSnake, maxTokens: maxTokensCamel, stop, ...rest } = parameters;
  const passed = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  const owner = `${OWNER}.stream`;
  if (temperature !== undefined && (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)) {
    throw new InvalidOptionError('temperature', temperature, `${owner}: temperature must be a finite number of at least 0, got ${describeValue(temperature)}`);
  }
  const maxTokens = maxTokensCamel ?? maxTokensSnake;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    const option = maxTokensCamel === undefined ? 'max_tokens' : 'maxTokens';
    throw new InvalidOptionError(option, maxTokens, `${owner}: ${option} must be a positive integer, got ${describeValue(maxTokens)}`);
  }
  const stops = stop === undefined || stop === null ? undefined : typeof stop === 'string' ? [stop] : stop;
  if (stops !== undefined && !(Array.isArray(stops) && stops.every((entry) => typeof entry === 'string'))) {
    throw new InvalidOptionError('stop', stop, `${owner}: stop must be a string or an array of strings, got ${describeValue(stop)}`);
  }
  return {
    generation: {
      ...(temperature === undefined ? {} : { temperature: temperature as number }),
      ...(maxTokens === undefined ? {} : { maxTokens: maxTokens as number }),
      ...(stops === undefined || stops.length === 0 ? {} : { stop: stops as string[] }),
    },
    passed,
  };
}

/**
 * The provider and model names the LangChain model gives itself: LangSmith's (`getLsParams`, which integrations
 * override with their provider and model id), else its `model` / `modelName` field; looked for through
 * `.withConfig()` bindings (`bound`). Best effort: a model that throws or has none gets the defaults.
 */
function ownNames(chatModel: LangChainChatModel): { provider?: string; model?: string } {
  let current: unknown = chatModel;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as { getLsParams?: unknown; model?: unknown; modelName?: unknown; bound?: unknown };
    if (typeof candidate.getLsParams === 'function') {
      let params: { ls_provider?: unknown; ls_model_name?: unknown } = {};
      try {
        params = ((candidate.getLsParams as (options: object) => typeof params).call(candidate, {}) ?? {}) as typeof params;
      } catch {
        params = {};
      }
      const model = nameOf(params.ls_model_name) ?? nameOf(candidate.model) ?? nameOf(candidate.modelName);
      return { provider: nameOf(params.ls_provider), model };
    }
    current = candidate.bound;
  }
  return {};
}

function nameOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
