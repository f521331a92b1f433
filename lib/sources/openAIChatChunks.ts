// Internal: the parts of a Chat Completions stream both OpenAI paths share (the SDK's, fromOpenAI, and the direct
// one the config's engines use, fetchOpenAIChat): the request as sent, what a chunk gives the call, and the stream.
import type { Observable } from 'rxjs';
import type { SourceOptions } from '../core/types.js';
import type { CallRecorder } from '../usage/CallRecorder.js';
import { providerStream } from './providerStream.js';
import type { OpenAIChatChunk, OpenAIChatParams } from './providerTypes.js';
import { textMessages } from './sourceArguments.js';
import { upstreamBounds } from './upstreamTimeout.js';

/**
 * A Chat Completion's text as a provider stream: `opener` gets the streaming request once (made when the stream is
 * made, so a path may serialise it once for every subscription and retry) and gives what starts one request.
 */
export function openAIChatStream(
  owner: string,
  params: OpenAIChatParams,
  options: SourceOptions,
  opener: (request: ReturnType<typeof streamingChatRequest>) => (signal: AbortSignal) => PromiseLike<AsyncIterable<OpenAIChatChunk>>,
): Observable<string> {
  const bounds = upstreamBounds(owner, options.timeout);
  return providerStream<OpenAIChatChunk>({
    provider: 'openai',
    model: params.model,
    messages: textMessages(params.messages),
    options,
    bounds,
    open: opener(streamingChatRequest(params)),
    read: readChatChunk,
  });
}

/** `params` with `stream: true` and `stream_options.include_usage: true` added (the caller's other stream options kept). */
export function streamingChatRequest<P extends OpenAIChatParams>(params: P): P & { stream: true; stream_options: object } {
  const streamOptions = params.stream_options && typeof params.stream_options === 'object' ? params.stream_options : {};
  return { ...params, stream: true, stream_options: { ...streamOptions, include_usage: true } };
}

/** Reports the chunk's usage (the usage chunk) and returns the text of choice 0's delta, if any. */
export function readChatChunk(chunk: OpenAIChatChunk, call: CallRecorder): string | undefined {
  const { usage } = chunk;
  if (usage) call.report({ promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens });
  const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
  const content = choice?.delta?.content;
  return typeof content === 'string' && content !== '' ? content : undefined;
}
