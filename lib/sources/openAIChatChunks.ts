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
    ends: endsChatAnswer,
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

/**
 * Whether the chunk makes the answer whole: it gives choice 0 its `finish_reason` (any: `length` and `content_filter`
 * end the text as `stop` does, and the stream completes on them as on `stop`).
 *
 * A stream ends with the finish chunk, the usage chunk (empty `choices`; the request always asks for it, though some
 * OpenAI-compatible servers send none), `[DONE]` (which the SDK hides: it reads on to the body's end), then the body's
 * end. The text is complete at the finish chunk, so that is where the answer counts as whole, and a connection lost
 * after it completes the stream:
 * - after the usage chunk, the call is recorded with the usage as reported;
 * - between the finish chunk and the usage chunk, with estimated usage (`estimated: true`), as a cancellation records
 *   it. Failing there would throw away a complete answer for want of a count that can be estimated, and the
 *   caller's retry would pay for the answer again.
 * A connection lost before the finish chunk fails the stream, as before: nothing said the text was complete. With
 * `n > 1` only choice 0 is streamed, so its finish is what counts; the other choices may still be streaming then, and
 * an estimate counts choice 0's text only.
 */
function endsChatAnswer(chunk: OpenAIChatChunk): boolean {
  const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
  return typeof choice?.finish_reason === 'string' && choice.finish_reason !== '';
}
