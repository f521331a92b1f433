// Internal: the parts of a Chat Completions stream both OpenAI paths share (the SDK's, fromOpenAI, and the direct
// one the config's engines use, fetchOpenAIChat): the request as sent, and what a chunk gives the call.
import type { CallRecorder } from '../usage/CallRecorder.js';
import type { OpenAIChatChunk, OpenAIChatParams } from './providerTypes.js';

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
