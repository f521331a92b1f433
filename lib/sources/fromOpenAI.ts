import type { Observable } from 'rxjs';
import type { SourceOptions } from '../core/types.js';
import type { OpenAIChatChunk, OpenAIChatClient, OpenAIChatParams } from './providerTypes.js';
import { openAIChatStream } from './openAIChatChunks.js';
import { assertClient, assertParams, assertSourceOptions } from './sourceArguments.js';

/**
 * Streams the text of an OpenAI Chat Completion as `Observable<string>`, one item per content delta.
 *
 * The request is sent with `stream: true` and `stream_options.include_usage: true` added, when subscribed (each
 * subscription is one request). Only text reaches the stream: the role chunk, tool-call deltas, the finish chunk
 * and the usage chunk (empty `choices`) are read, never emitted; with `n > 1` only choice 0 is streamed.
 *
 * ```
 * request:  ^---------------------
 * deltas:   ---H--e--l--l--o--|        one item per non-empty content delta
 * ```
 *
 * - Completes when the provider ends the stream; records the call (usage from the usage chunk) in `usage`.
 * - Errors with {@link ProviderError} for an HTTP error status, an `error` event mid-stream or a dropped
 *   connection; the text already emitted stays emitted.
 * - Once the answer is whole (choice 0's finish chunk was read), a connection that drops or stalls before the body
 *   ends completes the stream instead, recording the usage chunk's counts if it came, else estimated usage.
 * - With `timeout`, a wait over its bound (for the first chunk, or between two chunks) aborts the request and
 *   errors with a retryable {@link ProviderError} of type `timeout`, code `upstream_timeout`.
 * - Unsubscribing aborts the HTTP request at once and records the call with estimated usage, as the provider's
 *   usage chunk never arrives then.
 *
 * ## Example
 * ```ts
 * import OpenAI from 'openai';
 * import { fromOpenAI, guard, keywordRail, UsageTracker } from 'rxguardrails';
 *
 * const usage = new UsageTracker();
 * fromOpenAI(new OpenAI(), { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi!' }] }, { usage })
 *   .pipe(guard([keywordRail(['password'])]))
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 *
 * @param client An `openai` client (any object with `chat.completions.create`).
 * @param params Chat Completions parameters; `stream` and `stream_options.include_usage` are set for you.
 * @param options `usage` (tracker), `task` (default 'general'), `signal` (aborts from outside), `timeout` (bounds on
 *   the wait for the first event and between events, in ms: a number for both or `{ firstTokenMs, idleMs }`;
 *   default none).
 */
export function fromOpenAI<P extends OpenAIChatParams>(client: OpenAIChatClient, params: P, options: SourceOptions = {}): Observable<string> {
  assertClient('fromOpenAI', client, 'chat.completions.create', () => client.chat?.completions?.create);
  assertParams('fromOpenAI', params, 'messages');
  assertSourceOptions('fromOpenAI', options);
  return openAIChatStream('fromOpenAI', params, options, (request) => (signal) =>
    client.chat.completions.create(request as never, { signal }) as PromiseLike<AsyncIterable<OpenAIChatChunk>>,
  );
}
