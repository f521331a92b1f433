import type { Observable } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { describeValue } from '../internal/validateOptions.js';
import { assertClient, assertParams, assertSourceOptions, textMessages } from './sourceArguments.js';
import type { SourceOptions } from '../core/types.js';
import { providerStream } from './providerStream.js';
import { upstreamBounds } from './upstreamTimeout.js';
import type { AnthropicClient, AnthropicEvent, AnthropicParams, AnthropicUsage } from './providerTypes.js';

/**
 * Streams the text of an Anthropic Messages API call as `Observable<string>`, one item per `text_delta`.
 *
 * The request is sent with `stream: true` when subscribed. Pings, thinking and tool-use blocks are read, never
 * emitted. Usage: input tokens (cache reads and writes included) from `message_start`, output tokens from the
 * last `message_delta`, where they are cumulative (replaced, never added). An `error` event (such as
 * `overloaded_error`) or a dropped connection errors the stream with {@link ProviderError}, unless the answer was whole
 * by then (`message_delta` with its `stop_reason` was read): the stream then completes, text and usage being all
 * there. Unsubscribing aborts the request and records the call, with the output tokens estimated when `message_delta`
 * never came. With `timeout`, a wait over its bound (for `message_start`, or between two events: pings count) aborts
 * the request and errors with a `ProviderError` of type `timeout`.
 *
 * ## Example
 * ```ts
 * import Anthropic from '@anthropic-ai/sdk';
 * import { fromAnthropic, guard, keywordRail } from 'rxguardrails';
 *
 * fromAnthropic(new Anthropic(), { model: 'claude-opus-4-7', max_tokens: 1024, messages: [{ role: 'user', content: 'Hi!' }] })
 *   .pipe(guard([keywordRail(['password'])]))
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param client An `@anthropic-ai/sdk` client (any object with `messages.create`).
 * @param params Messages API parameters (`model`, `max_tokens`, `messages`, `system`, ...); `stream` is set for you.
 * @param options `usage` (tracker), `task` (default 'general'), `signal` (aborts from outside), `timeout` (bounds on
 *   the wait for the first event and between events, in ms: a number for both or `{ firstTokenMs, idleMs }`;
 *   default none).
 */
export function fromAnthropic<P extends AnthropicParams>(client: AnthropicClient, params: P, options: SourceOptions = {}): Observable<string> {
  assertClient('fromAnthropic', client, 'messages.create', () => client.messages?.create);
  assertParams('fromAnthropic', params, 'messages');
  if (typeof params.max_tokens !== 'number' || !Number.isInteger(params.max_tokens) || params.max_tokens < 1) {
    throw new InvalidOptionError(
      'params.max_tokens',
      params.max_tokens,
      `fromAnthropic: params.max_tokens must be a positive integer (the Messages API requires it), got ${describeValue(params.max_tokens)}`,
    );
  }
  assertSourceOptions('fromAnthropic', options);
  const bounds = upstreamBounds('fromAnthropic', options.timeout);
  const request = { ...params, stream: true };
  const system = typeof params.system === 'string' ? [{ role: 'system', content: params.system }] : textMessages(params.system);
  return providerStream<AnthropicEvent>({
    provider: 'anthropic',
    model: params.model,
    messages: [...system, ...textMessages(params.messages)],
    options,
    bounds,
    open: (signal) => client.messages.create(request as never, { signal }) as PromiseLike<AsyncIterable<AnthropicEvent>>,
    read: (event, call) => {
      switch (event.type) {
        case 'content_block_delta':
          return event.delta?.type === 'text_delta' && typeof event.delta.text === 'string' && event.delta.text !== '' ? event.delta.text : undefined;
        case 'message_start':
          // Its output_tokens is a placeholder (1); the real count comes with message_delta.
          call.report({ promptTokens: inputTokens(event.message?.usage) });
          return undefined;
        case 'message_delta':
          call.report({ promptTokens: inputTokens(event.usage), completionTokens: event.usage?.output_tokens ?? undefined });
          return undefined;
        default:
          return undefined;
      }
    },
    // The answer is whole at message_delta with its stop_reason (at message_stop if none had one): it also brings
    // the final output count, and only message_stop follows it, then the body's end (which the SDK reads on to). A
    // connection lost after it completes the stream, with the usage as reported; one lost before it fails the stream.
    ends: (event) => event.type === 'message_stop' || (event.type === 'message_delta' && typeof event.delta?.stop_reason === 'string'),
  });
}

/** Input tokens as Anthropic counts them, plus the tokens written to and read from the prompt cache. */
function inputTokens(usage: AnthropicUsage | undefined): number | undefined {
  if (usage?.input_tokens === undefined || usage.input_tokens === null) return undefined;
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}
