// The parts of the OpenAI and Anthropic SDKs the sources use, described structurally: the SDKs are optional peer
// dependencies, so neither their code nor their types are imported, and any client with this shape works
// (the official ones, Azure's, proxies' look-alikes). Type tests check the real clients against these.
import type { ChatMessage } from '../core/types.js';

/** Per-request options both SDKs accept. */
export interface RequestOptions {
  signal?: AbortSignal;
}

/**
 * Chat Completions request parameters: what the source reads. Every other parameter (temperature, tools, ...)
 * is passed through as given; the sources take any object extending this, OpenAI's own parameter types included.
 */
export interface OpenAIChatParams {
  readonly model: string;
  readonly messages: readonly ChatMessage[] | readonly object[];
  readonly stream_options?: object | null;
}

/** The fields of a streamed `chat.completion.chunk` the source reads. */
export interface OpenAIChatChunk {
  readonly choices?: ReadonlyArray<{
    readonly index?: number;
    readonly delta?: { readonly content?: string | null } | null;
    readonly finish_reason?: string | null;
  }> | null;
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number; readonly total_tokens?: number } | null;
}

/** An OpenAI client: `new OpenAI({ apiKey })` from the `openai` package. */
export interface OpenAIChatClient {
  readonly chat: {
    readonly completions: {
      create(params: never, options?: RequestOptions): PromiseLike<unknown>;
    };
  };
}

/** Responses API request parameters (`input` instead of `messages`); others are passed through. */
export interface OpenAIResponsesParams {
  readonly model: string;
  readonly input: string | readonly ChatMessage[] | readonly object[];
  readonly instructions?: string | null;
}

/** The streamed Responses API events the source reads. */
export interface OpenAIResponsesEvent {
  readonly type: string;
  readonly delta?: string;
  readonly response?: {
    readonly usage?: { readonly input_tokens?: number; readonly output_tokens?: number; readonly total_tokens?: number } | null;
    readonly error?: { readonly code?: string; readonly message?: string } | null;
  };
  readonly code?: string | null;
  readonly message?: string;
  readonly error?: { readonly type?: string; readonly code?: string; readonly message?: string };
}

export interface OpenAIResponsesClient {
  readonly responses: {
    create(params: never, options?: RequestOptions): PromiseLike<unknown>;
  };
}

/** Messages API request parameters; `max_tokens` is required by the API; others are passed through. */
export interface AnthropicParams {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly object[];
  readonly system?: unknown;
}

/** The usage object Anthropic sends in `message_start` and `message_delta`. */
export interface AnthropicUsage {
  readonly input_tokens?: number | null;
  readonly output_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
}

/** The streamed Messages API events the source reads. */
export interface AnthropicEvent {
  readonly type: string;
  readonly message?: { readonly usage?: AnthropicUsage };
  readonly delta?: { readonly type?: string; readonly text?: string; readonly stop_reason?: string | null };
  readonly usage?: AnthropicUsage;
}

/** An Anthropic client: `new Anthropic({ apiKey })` from `@anthropic-ai/sdk`. */
export interface AnthropicClient {
  readonly messages: {
    create(params: never, options?: RequestOptions): PromiseLike<unknown>;
  };
}
