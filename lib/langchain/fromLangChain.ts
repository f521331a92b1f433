import { defer, type Observable, throwError } from 'rxjs';
import type { ChatMessage, SourceOptions } from '../core/types.js';
import { InvalidItemError } from '../errors/InvalidItemError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, describeValue, isPromiseLike } from '../internal/validateOptions.js';
import { providerStream } from '../sources/providerStream.js';
import { assertSourceOptions, textMessages } from '../sources/sourceArguments.js';
import { upstreamBounds } from '../sources/upstreamTimeout.js';
import type { CallRecorder } from '../usage/CallRecorder.js';
import type { LangChainChunk, LangChainStream, LangChainUsageMetadata } from './langChainTypes.js';

/**
 * What {@link fromLangChain} streams: best a function of an AbortSignal that starts the call
 * (`(signal) => model.stream(messages, { signal })`), so each subscription is one call and unsubscribing aborts it;
 * or a stream already started (`model.stream(messages)`, awaited or not), which can be subscribed once.
 */
export type LangChainStreamInput =
  | ((signal: AbortSignal) => LangChainStream | PromiseLike<LangChainStream>)
  | LangChainStream
  | PromiseLike<LangChainStream>;

/** Options of {@link fromLangChain}: those of every provider source, plus what to record the call as. */
export interface FromLangChainOptions extends SourceOptions {
  /**
   * The provider in usage records and in `ProviderError.provider` (`ollama`, `google`, `bedrock`, ...).
   * @default 'langchain'
   */
  readonly provider?: string;
  /**
   * The model in usage records.
   * @default 'unknown'
   */
  readonly model?: string;
  /**
   * What was sent (`{ role, content }` messages or LangChain messages), for the prompt-token estimate when the model
   * reports no usage. Without it, an estimated record counts 0 prompt tokens.
   * @default []
   */
  readonly messages?: readonly (ChatMessage | { readonly content: unknown })[];
}

const OWNER = 'fromLangChain';
const OPTION_KEYS = ['usage', 'task', 'signal', 'timeout', 'demand', 'provider', 'model', 'messages'] as const;

/**
 * Streams the text of a LangChain.js chat model's `.stream()` as `Observable<string>`, one item per chunk with text.
 *
 * Text is the chunk's `content` when it is a string, else the `text` of its `{ type: 'text' }` (and `text_delta`)
 * content blocks; tool-call chunks, reasoning/thinking blocks, images and chunks without text are read, never
 * emitted. A chain ending in `StringOutputParser` (string chunks) works too. Usage: LangChain's `usage_metadata`
 * are per-chunk counts (LangChain adds them up when it concatenates chunks), so they are summed here: input tokens
 * as they arrive, output and total tokens when the stream has ended. The call is recorded once, on complete, error or
 * unsubscribe; output tokens are estimated (and the record flagged `estimated: true`) when the stream did not end or
 * the model reported no usage. What the model throws errors the stream as a {@link ProviderError} (status, code and
 * LangChain's `lc_error_code` kept). With the function form, unsubscribing aborts the call through the signal
 * LangChain passes to the provider; a stream already started can only be stopped by ending its iteration.
 *
 * ```
 * model.stream()  --[Hel]--[lo]--[tool_call_chunk]--[usage]--|
 * fromLangChain   --Hel----lo---------------------------------|   (usage recorded once, at the end)
 * ```
 *
 * ## Example
 * ```ts
 * import { FakeListChatModel } from '@langchain/core/utils/testing';
 * import { guard, keywordRail, UsageTracker } from 'rxguardrails';
 * import { fromLangChain } from 'rxguardrails/langchain';
 *
 * const chat = new FakeListChatModel({ responses: ['Hello there!'] }); // or ChatOllama, ChatGoogleGenerativeAI, ...
 * const messages = [{ role: 'user' as const, content: 'Hi!' }];
 * fromLangChain((signal) => chat.stream(messages, { signal }), { usage: new UsageTracker(), messages, provider: 'fake' })
 *   .pipe(guard([keywordRail(['password'])]))
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param stream `(signal) => model.stream(messages, { signal })` (each subscription calls it; unsubscribing aborts
 *   the signal), or a stream already started (an async iterable or a promise of one; one subscription only).
 * @param options `usage`, `task` (default 'general'), `signal`, `timeout` (default none), `demand` as every source;
 *   `provider` (default 'langchain'), `model` (default 'unknown'), `messages` (for the prompt estimate).
 */
export function fromLangChain(stream: LangChainStreamInput, options: FromLangChainOptions = {}): Observable<string> {
  if (typeof stream !== 'function' && !isAsyncIterable(stream) && !isPromiseLike(stream)) {
    throw new InvalidOptionError(
      'stream',
      stream,
      `${OWNER}: stream must be (signal) => model.stream(messages, { signal }), or what model.stream() returned (an async iterable or a promise of one), got ${describeValue(stream)}`,
    );
  }
  assertKnownKeys(OWNER, options, OPTION_KEYS);
  const { provider = 'langchain', model = 'unknown', messages, ...source } = options;
  assertSourceOptions(OWNER, source);
  assertName('provider', provider);
  assertName('model', model);
  if (messages !== undefined && !Array.isArray(messages)) {
    throw new InvalidOptionError('messages', messages, `${OWNER}: messages must be an array of messages (for the prompt estimate), got ${describeValue(messages)}`);
  }
  const bounds = upstreamBounds(OWNER, options.timeout);
  const prompt = textMessages(messages);
  let started = false;
  return defer(() => {
    if (typeof stream !== 'function') {
      // An iterator is consumed by its first reader; a second subscription would read a locked or finished stream.
      if (started) {
        return throwError(
          () =>
            new InvalidOptionError(
              'stream',
              stream,
              `${OWNER}: a stream already started can be subscribed once; pass (signal) => model.stream(messages, { signal }) for a source each subscription calls anew`,
            ),
        );
      }
      started = true;
    }
    const usage = new UsageSum();
    let position = 0;
    return providerStream<LangChainChunk>({
      provider,
      model,
      messages: prompt,
      options: source,
      bounds,
      open: async (signal) => {
        const opened = await (typeof stream === 'function' ? stream(signal) : stream);
        if (!isAsyncIterable(opened)) {
          throw new InvalidOptionError(
            'stream',
            opened,
            `${OWNER}: the stream function must return model.stream(...)'s result (an async iterable, or a promise of one), got ${describeValue(opened)}`,
          );
        }
        return typeof stream === 'function' ? opened : endedBy(opened, signal);
      },
      read: (chunk, call) => {
        const index = position++;
        if (typeof chunk === 'string') return chunk;
        if (chunk === null || typeof chunk !== 'object') throw new InvalidItemError(OWNER, index, chunk);
        if (usage.add(chunk.usage_metadata)) call.report({ promptTokens: usage.input });
        return contentText(chunk.content);
      },
      end: (call) => usage.reportFinal(call),
    });
  });
}

function assertName(option: 'provider' | 'model', value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(option, value, `${OWNER}: ${option} must be a non-empty string, got ${describeValue(value)}`);
  }
}

/** The text of a chunk's content: a string, or the text of its text blocks (every other block type is not text). */
function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text = '';
  for (const block of content as unknown[]) {
    if (typeof block === 'string') text += block;
    else if (block !== null && typeof block === 'object') {
      const { type, text: blockText } = block as { type?: unknown; text?: unknown };
      if ((type === 'text' || type === 'text_delta') && typeof blockText === 'string') text += blockText;
    }
  }
  return text;
}

/** The usage of a stream so far: LangChain's per-chunk counts, summed field by field (unknown stays unknown). */
class UsageSum {
  input?: number;
  private output?: number;
  private total?: number;

  /** Adds a chunk's usage; whether it had any count. */
  add(metadata: LangChainUsageMetadata | null | undefined): boolean {
    if (metadata === null || typeof metadata !== 'object') return false;
    const input = count(metadata.input_tokens);
    const output = count(metadata.output_tokens);
    const total = count(metadata.total_tokens);
    if (input !== undefined) this.input = (this.input ?? 0) + input;
    if (output !== undefined) this.output = (this.output ?? 0) + output;
    if (total !== undefined) this.total = (this.total ?? 0) + total;
    return input !== undefined || output !== undefined || total !== undefined;
  }

  /** At the end of the stream the sums are the call's usage; before it, output counts are partial and not reported. */
  reportFinal(call: CallRecorder): void {
    call.report({ promptTokens: this.input, completionTokens: this.output, totalTokens: this.total });
  }
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * A stream started outside, iterated so that an abort ends its iteration at once (`return()`, which cancels
 * LangChain's `IterableReadableStream`) instead of waiting for a next chunk that may never come.
 */
function endedBy(stream: LangChainStream, signal: AbortSignal): LangChainStream {
  return {
    [Symbol.asyncIterator]() {
      const iterator = stream[Symbol.asyncIterator]();
      const stop = () => void Promise.resolve(iterator.return?.()).catch(() => undefined);
      signal.addEventListener('abort', stop, { once: true });
      return {
        next: () => iterator.next(),
        return: async () => {
          signal.removeEventListener('abort', stop);
          return (await iterator.return?.()) ?? { done: true, value: undefined };
        },
      };
    },
  };
}
