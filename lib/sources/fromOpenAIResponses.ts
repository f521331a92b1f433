import type { Observable } from 'rxjs';
import { ProviderError } from '../errors/ProviderError.js';
import { assertClient, assertParams, assertSourceOptions, textMessages } from './sourceArguments.js';
import type { SourceOptions } from '../core/types.js';
import { providerStream } from './providerStream.js';
import { upstreamBounds } from './upstreamTimeout.js';
import type { OpenAIResponsesClient, OpenAIResponsesEvent, OpenAIResponsesParams } from './providerTypes.js';

/**
 * Streams the text of an OpenAI Responses API call (`client.responses.create`) as `Observable<string>`, one item
 * per `response.output_text.delta`.
 *
 * The request is sent with `stream: true` when subscribed. Other events (created, in progress, output items,
 * reasoning, tool calls) are read, never emitted. Usage comes from `response.completed` (or
 * `response.incomplete`); a `response.failed` or `error` event errors the stream with {@link ProviderError}, as
 * does a dropped connection before `response.completed` (one after it completes the stream: the answer was whole).
 * Unsubscribing aborts the request and records estimated usage, and `timeout` bounds the waits, like
 * {@link fromOpenAI} (every event counts: a reasoning model may send none for a while after `response.in_progress`,
 * so give it an idle bound that allows for that).
 *
 * ## Example
 * ```ts
 * import OpenAI from 'openai';
 * import { fromOpenAIResponses } from 'rxguardrails';
 *
 * fromOpenAIResponses(new OpenAI(), { model: 'gpt-4.1-mini', input: 'Say hi' }).subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param client An `openai` client (any object with `responses.create`).
 * @param params Responses API parameters (`model`, `input`, ...); `stream` is set for you.
 * @param options `usage` (tracker), `task` (default 'general'), `signal` (aborts from outside), `timeout` (bounds on
 *   the wait for the first event and between events, in ms: a number for both or `{ firstTokenMs, idleMs }`;
 *   default none).
 */
export function fromOpenAIResponses<P extends OpenAIResponsesParams>(client: OpenAIResponsesClient, params: P, options: SourceOptions = {}): Observable<string> {
  assertClient('fromOpenAIResponses', client, 'responses.create', () => client.responses?.create);
  assertParams('fromOpenAIResponses', params, 'input');
  assertSourceOptions('fromOpenAIResponses', options);
  const bounds = upstreamBounds('fromOpenAIResponses', options.timeout);
  const request = { ...params, stream: true };
  const instructions = typeof params.instructions === 'string' ? [{ role: 'system', content: params.instructions }] : [];
  return providerStream<OpenAIResponsesEvent>({
    provider: 'openai',
    model: params.model,
    messages: [...instructions, ...textMessages(params.input)],
    options,
    bounds,
    open: (signal) => client.responses.create(request as never, { signal }) as PromiseLike<AsyncIterable<OpenAIResponsesEvent>>,
    read: (event, call) => {
      switch (event.type) {
        case 'response.output_text.delta':
          return typeof event.delta === 'string' && event.delta !== '' ? event.delta : undefined;
        case 'response.completed':
        case 'response.incomplete': {
          const usage = event.response?.usage;
          if (usage) call.report({ promptTokens: usage.input_tokens, completionTokens: usage.output_tokens, totalTokens: usage.total_tokens });
          return undefined;
        }
        case 'response.failed':
        case 'error': {
          const failure = event.type === 'error' ? (event.error ?? event) : (event.response?.error ?? {});
          const type = 'type' in failure && typeof failure.type === 'string' ? failure.type : undefined;
          throw new ProviderError({
            provider: 'openai',
            type: type ?? failure.code ?? undefined,
            code: failure.code ?? undefined,
            during: call.streamed ? 'stream' : 'request',
            detail: failure.message ?? event.type,
            cause: event,
          });
        }
        default:
          return undefined;
      }
    },
    // The answer is whole at the response's last event, response.completed (or response.incomplete, cut short by
    // max_output_tokens or a content filter, which the stream completes with as well), which brings the usage; the
    // SDK reads on to the body's end after it. A connection lost after it completes the stream; before it, it fails.
    ends: (event) => event.type === 'response.completed' || event.type === 'response.incomplete',
  });
}
