// A real LangChain chat model for the bridge's specs: a minimal BaseChatModel subclass (LangChain's own fakes report
// no usage_metadata) that streams scripted chunks with usage, as integrations do (input tokens on the first chunk,
// output tokens on the last, per-chunk counts that LangChain sums), and can misbehave: throw mid-stream, hang until
// aborted. It writes down what each call received (messages, call options, the signal LangChain passed on).
import { BaseChatModel, type BaseChatModelCallOptions } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, type BaseMessage, type MessageContent, type UsageMetadata } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';

export interface ScriptedChunk {
  readonly content: MessageContent;
  readonly usage?: UsageMetadata;
  readonly tool_call_chunks?: AIMessageChunk['tool_call_chunks'];
}

export interface ReceivedCall {
  readonly messages: readonly { readonly type: string; readonly content: unknown }[];
  readonly options: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal | undefined;
}

export interface UsageChatModelFields {
  /** The chunks of every call. */
  readonly chunks: readonly ScriptedChunk[];
  /** Throws this after so many chunks. */
  readonly throwAfter?: { readonly chunks: number; readonly error: unknown };
  /** Never yields after so many chunks (until aborted). */
  readonly hangAfter?: number;
  /** Milliseconds between chunks. */
  readonly delayMs?: number;
  readonly modelName?: string;
}

/** Chunks of `text` word by word, with usage on the first (input) and last (output) chunk. */
export function wordChunks(text: string, usage?: { input: number; output: number }): ScriptedChunk[] {
  const words = text.match(/\S+\s*/g) ?? [];
  return words.map((word, index) => ({
    content: word,
    ...(usage && index === 0 ? { usage: { input_tokens: usage.input, output_tokens: 0, total_tokens: usage.input } } : {}),
    ...(usage && index === words.length - 1 ? { usage: { input_tokens: index === 0 ? usage.input : 0, output_tokens: usage.output, total_tokens: (index === 0 ? usage.input : 0) + usage.output } } : {}),
  }));
}

export class UsageChatModel extends BaseChatModel {
  readonly calls: ReceivedCall[] = [];
  private readonly script: UsageChatModelFields;

  constructor(fields: UsageChatModelFields) {
    super({});
    this.script = fields;
  }

  _llmType(): string {
    return 'usage-chat-model';
  }

  override getLsParams(options: this['ParsedCallOptions']) {
    return { ...super.getLsParams(options), ls_provider: 'scripted-langchain', ls_model_name: this.script.modelName ?? 'usage-model-1' };
  }

  override async *_streamResponseChunks(messages: BaseMessage[], options: this['ParsedCallOptions']): AsyncGenerator<ChatGenerationChunk> {
    const { signal, ...rest } = options as BaseChatModelCallOptions & Record<string, unknown>;
    this.calls.push({ messages: messages.map((message) => ({ type: message.type, content: message.content })), options: rest, signal });
    const { chunks, throwAfter, hangAfter, delayMs } = this.script;
    for (const [index, chunk] of chunks.entries()) {
      if (throwAfter?.chunks === index) throw throwAfter.error;
      if (hangAfter === index) await untilAborted(signal);
      if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
      signal?.throwIfAborted();
      const message = new AIMessageChunk({
        content: chunk.content,
        ...(chunk.usage ? { usage_metadata: chunk.usage } : {}),
        ...(chunk.tool_call_chunks ? { tool_call_chunks: chunk.tool_call_chunks } : {}),
      });
      yield new ChatGenerationChunk({ message, text: typeof chunk.content === 'string' ? chunk.content : '' });
    }
    if (throwAfter?.chunks === chunks.length) throw throwAfter.error;
    if (hangAfter === chunks.length) await untilAborted(signal);
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    let text = '';
    for await (const chunk of this._streamResponseChunks(messages, options)) text += chunk.text;
    return { generations: [{ text, message: new AIMessageChunk(text) }] };
  }
}

/** Resolves never, rejects when `signal` aborts (as an integration's fetch does). */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason ?? new Error('aborted')), { once: true });
  });
}
