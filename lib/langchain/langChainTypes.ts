// The parts of LangChain.js the bridge uses, described structurally: `@langchain/core` is an optional peer
// dependency, so neither its code nor its types are imported. Any `BaseChatModel` (ChatOllama, ChatGoogleGenerativeAI,
// ChatBedrockConverse, ChatMistralAI, ...), a model bound with `.withConfig()`, or a chain ending in one fits these
// shapes, from whichever copy of @langchain/core the app has; spec/types checks the real classes against them.

/** The usage LangChain attaches to a chunk (`AIMessageChunk.usage_metadata`): per-chunk counts, summed over a stream. */
export interface LangChainUsageMetadata {
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  readonly total_tokens?: number;
}

/**
 * One item of a LangChain stream as the bridge reads it: an `AIMessageChunk` (text from `content`, usage from
 * `usage_metadata`), or a plain string (a chain ending in `StringOutputParser`).
 */
export type LangChainChunk =
  | string
  | {
      /** A string, or content blocks: `{ type: 'text', text }` blocks are the text; other blocks are not. */
      readonly content?: unknown;
      readonly usage_metadata?: LangChainUsageMetadata | null;
    };

/** A LangChain stream: what `model.stream(...)` resolves to (an `IterableReadableStream`), or any async iterable. */
export type LangChainStream = AsyncIterable<LangChainChunk>;

/** The call options the bridge sends to `stream()`: LangChain's `signal` and `stop`, and whatever is passed through. */
export interface LangChainCallOptions {
  readonly signal?: AbortSignal;
  readonly stop?: string[];
  readonly [option: string]: unknown;
}

/** A message as LangChain coerces it (`{ role, content }` objects are one of its `BaseMessageLike` forms). */
export interface LangChainMessageLike {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/**
 * A LangChain chat model, as the bridge calls it: `stream(messages, { signal, stop })`. A `BaseChatModel` is one, and
 * so is `model.withConfig({ ... })`.
 */
export interface LangChainChatModel {
  // Typed loosely on purpose: LangChain's own signature is generic in its call options and message types, and the
  // bridge only needs that it takes `{ role, content }` messages and call options and resolves to an async iterable.
  stream(input: never, options?: never): PromiseLike<LangChainStream>;
}

/**
 * The generation parameters of one call, as the bridge hands them to `langChainModel`'s `configure`: NeMo's and
 * OpenAI's names (`max_tokens`) translated to LangChain's (`maxTokens`), `stop` as a list. Undefined ones are absent.
 */
export interface LangChainCallParameters {
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
}
