import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { fromOpenAI, guard, InvalidOptionError, keywordRail, ProviderError, RailViolationError, UsageTracker } from 'rxguardrails';
import { estimateCompletionTokens, estimatePromptTokens } from '../../lib/usage/CallRecorder.js';
import { collect } from '../support/collect.js';
import { streamDroppedAfter } from '../support/drops.js';
import { openAIClient, transcriptText, useReplayServer, user } from '../support/clients.js';
import { deferred } from '../support/deferred.js';
import { blocksOf, fixture, sse } from '../support/replayServer.js';

const contentOf = (payload: Record<string, unknown>) =>
  ((payload.choices as { index: number; delta: { content?: string | null } }[] | undefined) ?? []).find((choice) => choice.index === 0)?.delta
    ?.content ?? undefined;

const params = { model: 'gpt-4o-mini', messages: user('Hello!') };

describe('fromOpenAI (the real openai client against recorded streams)', () => {
  const replay = useReplayServer();

  it.each([
    ['openai-chat-basic.sse', 'Hello! How can I assist you today?', undefined],
    ['openai-chat-usage-legacy.sse', '{"city":"San Francisco","units":"c"}', { promptTokens: 17, completionTokens: 10, totalTokens: 27 }],
    ['openai-chat-usage.sse', undefined, { promptTokens: 16, completionTokens: 300, totalTokens: 316 }],
  ])('should stream the text and record the usage of %s', async (name, text, reported) => {
    const { server } = replay;
    const usage = new UsageTracker();
    server.plan(name);
    const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage, task: 'general' }));
    const expected = text ?? transcriptText(fixture(name), contentOf);
    expect(outcome).toEqual({ items: expect.any(Array), completed: true });
    expect(outcome.items.join('')).toBe(expected);
    if (name === 'openai-chat-usage.sse') expect(expected).toHaveLength(1724);
    expect(outcome.items.every((item) => item !== '')).toBe(true);
    const [call, ...others] = usage.snapshot().calls;
    expect(others).toEqual([]);
    expect(call).toEqual(
      expect.objectContaining({ task: 'general', provider: 'openai', model: 'gpt-4o-mini', outcome: 'completed', estimated: reported === undefined }),
    );
    if (reported) expect(call).toEqual(expect.objectContaining(reported));
    else expect(call!.completionTokens).toBeGreaterThanOrEqual(outcome.items.length);
  });

  it('should ask for streaming and usage, keeping the caller stream_options and parameters', async () => {
    const { server } = replay;
    server.plan('openai-chat-basic.sse');
    await lastValueFrom(fromOpenAI(openAIClient(server), { ...params, temperature: 0.2, stream_options: { include_obfuscation: false } }));
    expect(server.requests.at(-1)).toEqual(
      expect.objectContaining({
        method: 'POST',
        path: '/v1/chat/completions',
        body: { ...params, temperature: 0.2, stream: true, stream_options: { include_obfuscation: false, include_usage: true } },
      }),
    );
  });

  it('should read role chunks, tool-call deltas, the finish chunk and the usage chunk without emitting them', async () => {
    const { server } = replay;
    const chunk = (delta: object, extra: object = {}) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra });
    server.plan({
      transcript: sse(
        [
          chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'print', arguments: '' } }] }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '{"message":' } }] }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '"hi"}' } }] }),
          chunk({ content: '' }),
          chunk({ content: 'Done.' }),
          { ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
          { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } },
        ],
        { done: true },
      ),
    });
    const usage = new UsageTracker();
    expect(await lastValueFrom(fromOpenAI(openAIClient(server), params, { usage }).pipe(toArray()))).toEqual(['Done.']);
    expect(usage.snapshot().totals).toEqual(expect.objectContaining({ promptTokens: 5, completionTokens: 7, totalTokens: 12 }));
  });

  it('should stream only choice 0 when the request asks for several', async () => {
    const { server } = replay;
    const chunk = (index: number, content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta: { content }, finish_reason: null }] });
    server.plan({ transcript: sse([chunk(0, 'A'), chunk(1, 'x'), chunk(0, 'B'), chunk(1, 'y')], { done: true }) });
    expect(await lastValueFrom(fromOpenAI(openAIClient(server), { ...params, n: 2 }).pipe(toArray()))).toEqual(['A', 'B']);
  });

  it('should give the same text however the bytes are split, inside UTF-8 characters too', async () => {
    const { server } = replay;
    const transcript = fixture('openai-chat-usage.sse');
    const expected = transcriptText(transcript, contentOf);
    const multiByte = [...transcript.entries()].filter(([, byte]) => byte >= 0x80).map(([offset]) => offset);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: 1, max: transcript.length - 1 }), fc.constantFrom(...multiByte)), { maxLength: 40 }), async (splitAt) => {
        server.plan({ transcript, splitAt });
        const text = (await lastValueFrom(fromOpenAI(openAIClient(server), params).pipe(toArray()))).join('');
        expect(text).toBe(expected);
      }),
      { numRuns: 25 },
    );
  });

  describe('cancellation', () => {
    it('should abort the request when unsubscribed: the server sees the disconnect within two blocks', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript: 'openai-chat-usage.sse', delayMs: 20 });
      const first = await firstValueFrom(fromOpenAI(openAIClient(server), params, { usage }).pipe(take(3), toArray()));
      // take(3) unsubscribed on the third token; only Promise callbacks ran since, so the server has not moved on.
      const request = server.requests.at(-1)!;
      const sentWhenUnsubscribed = request.blocksSent;
      await request.closed;
      expect(first).toHaveLength(3);
      expect(request.ended).toBe(false);
      expect(request.disconnectedAt).toEqual(expect.any(Number));
      // Counted in the server's own pace (a block every 20 ms), not in wall-clock time, which a busy machine
      // stretches: the disconnect reached the server within two blocks of the unsubscription.
      expect(request.blocksSent - sentWhenUnsubscribed).toBeLessThanOrEqual(2);
      const { calls } = usage.snapshot();
      expect(calls).toEqual([expect.objectContaining({ outcome: 'cancelled', estimated: true, promptTokens: expect.any(Number) })]);
      expect(calls[0]!.completionTokens).toBeGreaterThanOrEqual(3);
    });

    it('should stop the provider stream when guard blocks: at most 2 blocks after the violating one', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      const transcript = fixture('openai-chat-usage.sse');
      // The first word that appears past the first 400 characters of the answer.
      const text = transcriptText(transcript, contentOf);
      const keyword = /\b[a-z]{6,}\b/.exec(text.slice(400))![0];
      server.plan({ transcript, delayMs: 5 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage }).pipe(guard([keywordRail([keyword])], { chunkSize: 10, contextSize: 3 })));
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      const request = server.requests.at(-1)!;
      await request.closed;
      // Blocks: 1 role chunk, then one per delta. The violating window ends with the last item released.
      const violatingBlock = 1 + outcome.items.length;
      expect(request.ended).toBe(false);
      expect(request.blocksSent - violatingBlock).toBeLessThanOrEqual(2);
      expect(request.blocksSent).toBeLessThan(300);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'cancelled', estimated: true })]);
    });

    it('should error with the reason and abort when the signal given aborts', async () => {
      const { server } = replay;
      server.plan({ transcript: 'openai-chat-usage.sse', delayMs: 20 });
      const controller = new AbortController();
      const firstToken = deferred<void>();
      const pending = collect(fromOpenAI(openAIClient(server), params, { signal: controller.signal }).pipe(tap(() => firstToken.resolve())));
      // Mid-stream: after the first token, with some 300 blocks still to come.
      await firstToken.promise;
      const reason = new Error('user pressed stop');
      controller.abort(reason);
      const outcome = await pending;
      expect(outcome.error).toBe(reason);
      expect(outcome.items.length).toBeGreaterThan(0);
      await server.requests.at(-1)!.closed;
      expect(server.requests.at(-1)!.ended).toBe(false);
    });
  });

  describe('failures', () => {
    it.each<[number, { error: { message: string; type: string; param?: null; code?: string | null } }, string, boolean]>([
      [401, { error: { message: 'Incorrect API key provided: sk-test.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }, 'invalid_request_error', false],
      [429, { error: { message: 'Rate limit reached for gpt-4o-mini.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, 'requests', true],
      [429, { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }, 'insufficient_quota', false],
      [500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }, 'server_error', true],
      [503, { error: { message: 'The engine is currently overloaded.', type: 'server_error' } }, 'server_error', true],
    ])('should turn HTTP %s into a ProviderError', async (status, body, type, retryable) => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ status, body });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage }));
      expect(outcome.items).toEqual([]);
      const error = outcome.error as ProviderError;
      expect(ProviderError.isInstance(error)).toBe(true);
      expect(error).toEqual(expect.objectContaining({ provider: 'openai', status, type, during: 'request', retryable }));
      expect(error.message).toBe(`openai: HTTP ${status} ${type}${body.error.code && body.error.code !== type ? ` ${body.error.code}` : ''}: ${body.error.message}`);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
    });

    it('should deliver the text before a mid-stream error event, then a ProviderError', async () => {
      const { server } = replay;
      server.plan('openai-chat-error.sse');
      const outcome = await collect(fromOpenAI(openAIClient(server), params));
      expect(outcome.items.join('')).toBe('Hello! How');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'openai', type: 'server_error', during: 'stream', retryable: true }));
      expect((outcome.error as ProviderError).status).toBeUndefined();
    });

    it('should turn a dropped connection into a ProviderError', async () => {
      const { server } = replay;
      server.plan({ transcript: 'openai-chat-basic.sse', dropAfterBlocks: 4 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params));
      expect(outcome.items.join('')).toBe('Hello! How');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream', retryable: true }));
      expect((outcome.error as Error).message).toBe('openai: connection_error: the connection dropped (after the stream had started)');
    });

    it('should turn a refused connection into a ProviderError', async () => {
      const closed = openAIClient({ openAIBaseURL: 'http://127.0.0.1:9/v1' } as never);
      const outcome = await collect(fromOpenAI(closed, params));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'request', retryable: true }));
    });
  });

  describe('a connection that drops once the answer is whole', () => {
    // The legacy transcript ends as OpenAI ends a stream with include_usage: ..., the finish chunk, the usage chunk,
    // [DONE]. The server writes its first blocks, then destroys the socket instead of ending the chunked body.
    const transcript = fixture('openai-chat-usage-legacy.sse');
    const blocks = blocksOf(transcript).length;
    const text = '{"city":"San Francisco","units":"c"}';

    it('should end with the finish chunk, the usage chunk and [DONE] (what the cases below count on)', () => {
      const [finish, usageChunk, done] = blocksOf(transcript).slice(-3).map((block) => block.toString('utf8'));
      expect(finish).toContain('"finish_reason":"stop"');
      expect(usageChunk).toContain('"choices":[],"usage":{');
      expect(done).toBe('data: [DONE]\n\n');
    });

    it.each([
      ['after [DONE]', 0],
      ['after the usage chunk, before [DONE]', 1],
    ])('should complete with the usage reported when the connection drops %s', async (_, blocksShort) => {
      const { server } = replay;
      const usage = new UsageTracker();
      const outcome = await streamDroppedAfter(server, transcript, blocks - blocksShort, fromOpenAI(openAIClient(server), params, { usage }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe(text);
      expect(usage.snapshot().calls).toEqual([
        expect.objectContaining({ outcome: 'completed', estimated: false, promptTokens: 17, completionTokens: 10, totalTokens: 27 }),
      ]);
    });

    it('should complete with estimated usage, as a cancellation records it, when the connection drops after the finish chunk, before the usage chunk', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      const outcome = await streamDroppedAfter(server, transcript, blocks - 2, fromOpenAI(openAIClient(server), params, { usage }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe(text);
      const promptTokens = estimatePromptTokens(params.messages);
      const completionTokens = estimateCompletionTokens(text.length, outcome.items.length);
      expect(usage.snapshot().calls).toEqual([
        expect.objectContaining({ outcome: 'completed', estimated: true, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }),
      ]);
    });

    it('should still fail when the connection drops before the finish chunk, keeping the text emitted', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      // Every delta was sent, but not the finish chunk: nothing says the answer was whole.
      server.plan({ transcript, dropAfterBlocks: blocks - 3 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage }));
      expect(outcome.items.join('')).toBe(text);
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream', retryable: true }));
      await server.requests.at(-1)!.closed;
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
    });

    it('should complete a whole answer whose body then stalls at the idle bound, closing the request', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      // Every block, [DONE] included, then the response is held open: the SDK waits for the body's end.
      server.plan({ transcript, holdAfterBlocks: blocks });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage, timeout: { idleMs: 200 } }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe(text);
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(request.disconnectedAt).toEqual(expect.any(Number));
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'completed', estimated: false, completionTokens: 10 })]);
    });
  });

  describe('timeouts', () => {
    // Small bounds, and a server that holds the request open with no timer of its own: the only clock that can
    // end these calls is the source's.
    it('should fail at the first-token bound when the provider never answers, and close the request', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ holdBeforeHeaders: true });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage, timeout: { firstTokenMs: 200 } }));
      expect(outcome.items).toEqual([]);
      const error = outcome.error as ProviderError;
      expect(ProviderError.isInstance(error)).toBe(true);
      expect(error).toEqual(expect.objectContaining({ provider: 'openai', type: 'timeout', code: 'upstream_timeout', during: 'request', retryable: true, status: undefined }));
      expect(error.message).toBe('openai: timeout upstream_timeout: no answer within 200 ms of the request (first-token timeout)');
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(request.disconnectedAt).toEqual(expect.any(Number));
      const { calls } = usage.snapshot();
      expect(calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true, completionTokens: 0 })]);
      // Timers fire no earlier than asked (give or take the clock's millisecond).
      expect(calls[0]!.durationMs).toBeGreaterThanOrEqual(199);
    });

    it('should count the first event, not the headers, as the answer: headers then nothing is a first-token timeout', async () => {
      const { server } = replay;
      server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 0 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { timeout: 200 }));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'request', message: 'openai: timeout upstream_timeout: no answer within 200 ms of the request (first-token timeout)' }));
      await server.requests.at(-1)!.closed;
      expect(server.requests.at(-1)!.ended).toBe(false);
    });

    it('should fail at the idle bound when the stream stalls, keeping the tokens already emitted', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 4 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage, timeout: { firstTokenMs: 10_000, idleMs: 200 } }));
      expect(outcome.items.join('')).toBe('Hello! How');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', code: 'upstream_timeout', during: 'stream', retryable: true }));
      expect((outcome.error as Error).message).toBe(
        'openai: timeout upstream_timeout: the stream stalled: nothing for 200 ms since the last event (idle timeout) (after the stream had started)',
      );
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(request.blocksSent).toBe(4);
      const { calls } = usage.snapshot();
      expect(calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
      expect(calls[0]!.completionTokens).toBeGreaterThanOrEqual(3);
    });

    it("should call a stall after events that carried no text 'request': nothing was streamed", async () => {
      const { server } = replay;
      server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 1 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { timeout: { idleMs: 200 } }));
      expect(outcome.items).toEqual([]);
      expect(outcome.error).toEqual(expect.objectContaining({ type: 'timeout', during: 'request', message: expect.stringContaining('(idle timeout)') }));
    });

    it('should bound each wait, not the whole stream: a stream longer than the bound whose events keep coming completes', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      // 13 blocks, 60 ms apart: some 700 ms in all, never 400 ms without an event.
      server.plan({ transcript: 'openai-chat-basic.sse', delayMs: 60 });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage, timeout: 400 }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe('Hello! How can I assist you today?');
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'completed' })]);
      expect(usage.snapshot().calls[0]!.durationMs).toBeGreaterThan(400);
    });

    it('should record a call unsubscribed within its bounds as cancelled, once, not as a timeout', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 3 });
      const first = await firstValueFrom(fromOpenAI(openAIClient(server), params, { usage, timeout: 100 }));
      expect(first).toBe('Hello');
      await server.requests.at(-1)!.closed;
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
    });
  });

  describe('rate limits', () => {
    const rateLimited = { error: { message: 'Rate limit reached for gpt-4o-mini.', type: 'requests', param: null, code: 'rate_limit_exceeded' } };

    it.each<[string, Record<string, string>, number | undefined]>([
      ['retry-after in seconds', { 'retry-after': '7' }, 7],
      ['retry-after-ms, which wins over retry-after', { 'retry-after-ms': '1500', 'retry-after': '2' }, 1.5],
      ['no retry-after', {}, undefined],
    ])('should give a 429 its retryAfter from %s', async (_, headers, retryAfter) => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ status: 429, body: rateLimited, headers });
      const outcome = await collect(fromOpenAI(openAIClient(server), params, { usage }));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', status: 429, retryable: true, during: 'request', retryAfter }));
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error' })]);
    });

    it('should read a retry-after given as an HTTP date as the seconds until then', async () => {
      const { server } = replay;
      server.plan({ status: 429, body: rateLimited, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
      const { retryAfter } = (await collect(fromOpenAI(openAIClient(server), params))).error as ProviderError;
      // An HTTP date has whole seconds: 29 or 30 seconds from now, whatever the clock did since.
      expect(retryAfter).toBeGreaterThanOrEqual(28);
      expect(retryAfter).toBeLessThanOrEqual(30);
    });
  });

  describe('bad arguments', () => {
    it.each([
      [{}, params, {}, 'fromOpenAI: client must be an SDK client with chat.completions.create(), got an object'],
      [null, params, {}, 'fromOpenAI: client must be an SDK client with chat.completions.create(), got null'],
      ['client', { messages: [] }, {}, 'fromOpenAI: params.model must be a non-empty string, got undefined'],
      ['client', { model: 'm' }, {}, 'fromOpenAI: params.messages must be an array, got undefined'],
      ['client', params, { tracker: new UsageTracker() }, "fromOpenAI: unknown option 'tracker'; known options: usage, task, signal, timeout"],
      ['client', params, { timeout: 0 }, 'fromOpenAI: timeout must be a positive, finite number of milliseconds, got 0'],
      ['client', params, { timeout: -5 }, 'fromOpenAI: timeout must be a positive, finite number of milliseconds, got -5'],
      ['client', params, { timeout: Number.NaN }, 'fromOpenAI: timeout must be a positive, finite number of milliseconds, got NaN'],
      ['client', params, { timeout: Number.POSITIVE_INFINITY }, 'fromOpenAI: timeout must be a positive, finite number of milliseconds, got Infinity'],
      ['client', params, { timeout: '100' }, 'fromOpenAI: timeout must be a number of milliseconds or { firstTokenMs?, idleMs? }, got "100"'],
      ['client', params, { timeout: null }, 'fromOpenAI: timeout must be a number of milliseconds or { firstTokenMs?, idleMs? }, got null'],
      ['client', params, { timeout: { firstTokenMs: 0 } }, 'fromOpenAI: timeout.firstTokenMs must be a positive, finite number of milliseconds, got 0'],
      ['client', params, { timeout: { idleMs: '5' } }, 'fromOpenAI: timeout.idleMs must be a positive, finite number of milliseconds, got "5"'],
      ['client', params, { timeout: { first: 100 } }, "fromOpenAI: unknown option 'timeout.first'; timeout takes firstTokenMs, idleMs"],
    ])('should throw InvalidOptionError when called with bad arguments (%#)', (client, badParams, options, message) => {
      const real = client === 'client' ? openAIClient(replay.server) : client;
      const create = () => fromOpenAI(real as never, badParams as never, options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });
  });
});
