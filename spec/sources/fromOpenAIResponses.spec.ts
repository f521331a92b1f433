import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { fromOpenAIResponses, InvalidOptionError, UsageTracker } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { streamDroppedAfter } from '../support/drops.js';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { blocksOf, fixture, sse } from '../support/replayServer.js';

describe('fromOpenAIResponses (the real openai client against recorded streams)', () => {
  const replay = useReplayServer();
  const params = { model: 'gpt-4.1-mini', input: 'Say hi', instructions: 'Be nice.' };

  it('should stream the output text deltas and record the usage of response.completed', async () => {
    const { server } = replay;
    const usage = new UsageTracker();
    server.plan('openai-responses-basic.sse');
    const tokens = await lastValueFrom(fromOpenAIResponses(openAIClient(server), params, { usage, task: 'general' }).pipe(toArray()));
    expect(tokens.join('')).toBe('Hi there! How can I assist you today?');
    expect(tokens).toHaveLength(10);
    expect(usage.snapshot().calls).toEqual([
      expect.objectContaining({ provider: 'openai', promptTokens: 37, completionTokens: 11, totalTokens: 48, estimated: false, outcome: 'completed' }),
    ]);
    expect(server.requests.at(-1)).toEqual(expect.objectContaining({ path: '/v1/responses', body: { ...params, stream: true } }));
  });

  it('should turn the error event into a ProviderError that says the quota is gone (not retryable)', async () => {
    const { server } = replay;
    server.plan('openai-responses-error.sse');
    const outcome = await collect(fromOpenAIResponses(openAIClient(server), params));
    expect(outcome.items).toEqual([]);
    expect(outcome.error).toEqual(
      expect.objectContaining({ name: 'ProviderError', provider: 'openai', type: 'insufficient_quota', during: 'request', retryable: false }),
    );
  });

  it('should turn a response.failed event into a ProviderError', async () => {
    const { server } = replay;
    server.plan({
      transcript: sse([
        { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', delta: 'Partial' } },
        { event: 'response.failed', data: { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'Something broke' } } } },
      ]),
    });
    const outcome = await collect(fromOpenAIResponses(openAIClient(server), params));
    expect(outcome.items).toEqual(['Partial']);
    expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'server_error', during: 'stream', message: 'openai: server_error: Something broke (after the stream had started)' }));
  });

  describe('a connection that drops once the answer is whole', () => {
    // The basic transcript ends with response.output_item.done, then response.completed (with the usage). The server
    // writes its first blocks, then destroys the socket instead of ending the chunked body.
    const transcript = fixture('openai-responses-basic.sse');
    const blocks = blocksOf(transcript).length;

    it('should end with response.output_item.done and response.completed (what the cases below count on)', () => {
      const last = blocksOf(transcript).slice(-2).map((block) => block.toString('utf8'));
      expect(last[0]).toMatch(/^event: response\.output_item\.done\n/);
      expect(last[1]).toMatch(/^event: response\.completed\n/);
    });

    it('should complete with the usage reported when the connection drops after response.completed', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      const outcome = await streamDroppedAfter(server, transcript, blocks, fromOpenAIResponses(openAIClient(server), params, { usage }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.join('')).toBe('Hi there! How can I assist you today?');
      expect(usage.snapshot().calls).toEqual([
        expect.objectContaining({ outcome: 'completed', estimated: false, promptTokens: 37, completionTokens: 11, totalTokens: 48 }),
      ]);
    });

    it('should still fail when the connection drops before response.completed, keeping the text emitted', async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ transcript, dropAfterBlocks: blocks - 1 });
      const outcome = await collect(fromOpenAIResponses(openAIClient(server), params, { usage }));
      expect(outcome.items.join('')).toBe('Hi there! How can I assist you today?');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'openai', type: 'connection_error', during: 'stream' }));
      await server.requests.at(-1)!.closed;
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
    });
  });

  it('should abort the request when unsubscribed', async () => {
    const { server } = replay;
    const usage = new UsageTracker();
    server.plan({ transcript: 'openai-responses-basic.sse', delayMs: 30 });
    await firstValueFrom(fromOpenAIResponses(openAIClient(server), params, { usage }).pipe(take(1)));
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.ended).toBe(false);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'cancelled', estimated: true })]);
  });

  it('should fail at the idle bound when the response stalls after it started, as a reasoning model may', async () => {
    const { server } = replay;
    const usage = new UsageTracker();
    // response.created and response.in_progress, then nothing: no text yet, so the call failed in its 'request'.
    server.plan({ transcript: 'openai-responses-basic.sse', holdAfterBlocks: 2 });
    const outcome = await collect(fromOpenAIResponses(openAIClient(server), params, { usage, timeout: { firstTokenMs: 10_000, idleMs: 200 } }));
    expect(outcome.items).toEqual([]);
    expect(outcome.error).toEqual(
      expect.objectContaining({
        name: 'ProviderError',
        type: 'timeout',
        code: 'upstream_timeout',
        during: 'request',
        message: 'openai: timeout upstream_timeout: the stream stalled: nothing for 200 ms since the last event (idle timeout)',
      }),
    );
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.ended).toBe(false);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
  });

  it('should fail at the first-token bound when the provider never answers', async () => {
    const { server } = replay;
    server.plan({ holdBeforeHeaders: true });
    const outcome = await collect(fromOpenAIResponses(openAIClient(server), params, { timeout: 200 }));
    expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'request', message: expect.stringContaining('(first-token timeout)') }));
    await server.requests.at(-1)!.closed;
    expect(server.requests.at(-1)!.ended).toBe(false);
  });

  it('should require an input', () => {
    expect(() => fromOpenAIResponses(openAIClient(replay.server), { model: 'm' } as never)).toThrow(InvalidOptionError);
    expect(() => fromOpenAIResponses(openAIClient(replay.server), { model: 'm' } as never)).toThrow(
      'fromOpenAIResponses: params.input must be a string or an array, got undefined',
    );
  });
});
