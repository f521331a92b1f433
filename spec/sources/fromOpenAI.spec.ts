import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { fromOpenAI, guard, InvalidOptionError, keywordRail, ProviderError, RailViolationError, UsageTracker } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { openAIClient, transcriptText, useReplayServer, user } from '../support/clients.js';
import { deferred } from '../support/deferred.js';
import { fixture, sse } from '../support/replayServer.js';

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

  describe('bad arguments', () => {
    it.each([
      [{}, params, {}, 'fromOpenAI: client must be an SDK client with chat.completions.create(), got an object'],
      [null, params, {}, 'fromOpenAI: client must be an SDK client with chat.completions.create(), got null'],
      ['client', { messages: [] }, {}, 'fromOpenAI: params.model must be a non-empty string, got undefined'],
      ['client', { model: 'm' }, {}, 'fromOpenAI: params.messages must be an array, got undefined'],
      ['client', params, { tracker: new UsageTracker() }, "fromOpenAI: unknown option 'tracker'; known options: usage, task, signal"],
    ])('should throw InvalidOptionError when called with bad arguments (%#)', (client, badParams, options, message) => {
      const real = client === 'client' ? openAIClient(replay.server) : client;
      const create = () => fromOpenAI(real as never, badParams as never, options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });
  });
});
