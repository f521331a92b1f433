import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { fromAnthropic, InvalidOptionError, ProviderError, UsageTracker } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { streamDroppedAfter } from '../support/drops.js';
import { anthropicClient, transcriptText, useReplayServer, user } from '../support/clients.js';
import { blocksOf, fixture, sse } from '../support/replayServer.js';

const params = { model: 'claude-opus-4-7', max_tokens: 256, messages: user('Hello!') };
const textOf = (payload: Record<string, unknown>) => {
  const delta = payload.delta as { type?: string; text?: string } | undefined;
  return payload.type === 'content_block_delta' && delta?.type === 'text_delta' ? delta.text : undefined;
};

describe('fromAnthropic (the real @anthropic-ai/sdk client against recorded streams)', () => {
  const replay = useReplayServer();

  it.each([
    ['anthropic-messages-basic.sse', 'Hello there!', { promptTokens: 11, completionTokens: 6, totalTokens: 17 }],
    ['anthropic-messages-usage.sse', undefined, { promptTokens: 12, completionTokens: 30, totalTokens: 42 }],
  ])('should stream the text and record the usage of %s', async (name, text, expectedUsage) => {
    const { server } = replay;
    const usage = new UsageTracker();
    server.plan(name);
    const outcome = await collect(fromAnthropic(anthropicClient(server), params, { usage }));
    const expected = text ?? transcriptText(fixture(name), textOf);
    expect(outcome.completed).toBe(true);
    expect(outcome.items.join('')).toBe(expected);
    if (text === undefined) expect(expected).toHaveLength(108);
    expect(usage.snapshot().calls).toEqual([
      expect.objectContaining({ provider: 'anthropic', model: 'claude-opus-4-7', outcome: 'completed', estimated: false, ...expectedUsage }),
    ]);
  });

  it('should send stream: true with the caller parameters to /v1/messages', async () => {
    const { server } = replay;
    server.plan('anthropic-messages-basic.sse');
    await lastValueFrom(fromAnthropic(anthropicClient(server), { ...params, system: 'Be brief.', temperature: 0 }));
    expect(server.requests.at(-1)).toEqual(
      expect.objectContaining({ path: '/v1/messages', body: { ...params, system: 'Be brief.', temperature: 0, stream: true } }),
    );
  });

  it('should read pings, thinking and tool-use blocks without emitting them, and replace (not add) the output count', async () => {
    const { server } = replay;
    server.plan({
      transcript: sse([
        { event: 'message_start', data: { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [], model: 'm', usage: { input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 1 } } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'abc' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'ping', data: { type: 'ping' } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Checking the weather.' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 't', name: 'weather', input: {} } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"location": "Paris"}' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 40 } } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 65 } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]),
    });
    const usage = new UsageTracker();
    expect(await lastValueFrom(fromAnthropic(anthropicClient(server), params, { usage }).pipe(toArray()))).toEqual(['Checking the weather.']);
    expect(usage.snapshot().calls[0]).toEqual(expect.objectContaining({ promptTokens: 120, completionTokens: 65, totalTokens: 185, estimated: false }));
  });

  it('should abort the request when unsubscribed, and record the known input with an estimated output', async () => {
    const { server } = replay;
    const usage = new UsageTracker();
    server.plan({ transcript: 'anthropic-messages-usage.sse', delayMs: 30 });
    await firstValueFrom(fromAnthropic(anthropicClient(server), params, { usage }).pipe(take(1)));
    // take(1) unsubscribed on the first token; only Promise callbacks ran since, so the server has not moved on.
    const request = server.requests.at(-1)!;
    const sentWhenUnsubscribed = request.blocksSent;
    await request.closed;
    expect(request.ended).toBe(false);
    expect(request.disconnectedAt).toEqual(expect.any(Number));
    // Counted in the server's own pace (a block every 30 ms), not in wall-clock time, which a busy machine
    // stretches: the disconnect reached the server within two blocks of the unsubscription.
    expect(request.blocksSent - sentWhenUnsubscribed).toBeLessThanOrEqual(2);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'cancelled', estimated: true, promptTokens: 12 })]);
  });

  describe('failures', () => {
    it('should deliver the text before an overloaded_error event, then a ProviderError', async () => {
      const { server } = replay;
      server.plan('anthropic-messages-error.sse');
      const outcome = await collect(fromAnthropic(anthropicClient(server), params));
      expect(outcome.items.join('')).toBe('Hello there');
      expect(outcome.error).toEqual(
        expect.objectContaining({ name: 'ProviderError', provider: 'anthropic', type: 'overloaded_error', during: 'stream', retryable: true }),
      );
      expect((outcome.error as ProviderError).message).toBe('anthropic: overloaded_error: Overloaded (after the stream had started)');
    });

    it.each([
      [401, 'authentication_error', 'invalid x-api-key', false],
      [429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', true],
      [500, 'api_error', 'Internal server error', true],
      [529, 'overloaded_error', 'Overloaded', true],
    ])('should turn HTTP %s into a ProviderError', async (status, type, message, retryable) => {
      const { server } = replay;
      server.plan({ status, body: { type: 'error', error: { type, message } } });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'anthropic', status, type, during: 'request', retryable }));
      expect((outcome.error as ProviderError).message).toBe(`anthropic: HTTP ${status} ${type}: ${message}`);
    });

    it('should turn a dropped connection into a ProviderError', async () => {
      const { server } = replay;
      server.plan({ transcript: 'anthropic-messages-basic.sse', dropAfterBlocks: 5 });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params));
      expect(outcome.items.join('')).toBe('Hello there');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream' }));
    });
  });

  describe('a connection that drops once the answer is whole', () => {
    // The basic transcript ends with content_block_stop, message_delta (stop_reason end_turn, the output count),
    // message_stop. The server writes its first blocks, then destroys the socket instead of ending the chunked body.
    const transcript = fixture('anthropic-messages-basic.sse');
    const blocks = blocksOf(transcript).length;

    it('should end with content_block_stop, message_delta with its stop_reason, and message_stop (what the cases below count on)', () => {
      const last = blocksOf(transcript).slice(-3).map((block) => block.toString('utf8'));
      expect(last[0]).toMatch(/^event: content_block_stop\n/);
      expect(last[1]).toMatch(/^event: message_delta\n.*"stop_reason":"end_turn"/s);
      expect(last[2]).toMatch(/^event: message_stop\n/);
    });

    it.each([
      ['after message_stop', 0],
      ['after message_delta, before message_stop', 1],
    ])('should complete with the usage reported when the connection drops %s', async (_, blocksShort) => {
      const { server } = replay;
      const usage = new UsageTracker();
      const outcome = await streamDroppedAfter(server, transcript, blocks - blocksShort, fromAnthropic(anthropicClient(server), params, { usage }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe('Hello there!');
      expect(usage.snapshot().calls).toEqual([
        expect.objectContaining({ outcome: 'completed', estimated: false, promptTokens: 11, completionTokens: 6, totalTokens: 17 }),
      ]);
    });

    it('should still fail when the connection drops before message_delta, keeping the text emitted', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript, dropAfterBlocks: blocks - 2 });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params, { usage }));
      expect(outcome.items.join('')).toBe('Hello there!');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'anthropic', type: 'connection_error', during: 'stream' }));
      await server.requests.at(-1)!.closed;
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true, promptTokens: 11 })]);
    });
  });

  describe('timeouts and rate limits', () => {
    it('should fail at the first-token bound when the provider never answers, and close the request', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ holdBeforeHeaders: true });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params, { usage, timeout: { firstTokenMs: 200 } }));
      expect(outcome.error).toEqual(
        expect.objectContaining({
          name: 'ProviderError',
          provider: 'anthropic',
          type: 'timeout',
          code: 'upstream_timeout',
          during: 'request',
          retryable: true,
          message: 'anthropic: timeout upstream_timeout: no answer within 200 ms of the request (first-token timeout)',
        }),
      );
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ provider: 'anthropic', outcome: 'error', estimated: true })]);
    });

    it('should fail at the idle bound when the stream stalls, keeping the text and the input tokens already known', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript: 'anthropic-messages-basic.sse', holdAfterBlocks: 5 });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params, { usage, timeout: { firstTokenMs: 10_000, idleMs: 200 } }));
      expect(outcome.items.join('')).toBe('Hello there');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'stream', message: expect.stringContaining('(idle timeout)') }));
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true, promptTokens: 11 })]);
    });

    it('should give a 429 the retryAfter of its retry-after header', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests' } }, headers: { 'retry-after': '7' } });
      const outcome = await collect(fromAnthropic(anthropicClient(server), params, { usage }));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', status: 429, type: 'rate_limit_error', retryAfter: 7, retryable: true }));
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error' })]);
    });
  });

  it('should require max_tokens, as the Messages API does', () => {
    const create = () => fromAnthropic(anthropicClient(replay.server), { model: 'm', messages: [] } as never);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow('fromAnthropic: params.max_tokens must be a positive integer (the Messages API requires it), got undefined');
  });
});
