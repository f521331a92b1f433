import { lastValueFrom, toArray } from 'rxjs';
import { anthropicModel, InvalidOptionError, openAIModel, UsageTracker } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { anthropicClient, openAIClient, useReplayServer } from '../support/clients.js';

const conversation = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'How are you?' },
];

describe('provider models (real clients against recorded streams)', () => {
  const replay = useReplayServer();

  describe('Chat Completions', () => {
    async function chatRun() {
      const { server } = replay;
      const usage = new UsageTracker();
      const model = openAIModel(openAIClient(server), { model: 'gpt-4o-mini', parameters: { temperature: 0.2, max_tokens: 50 } });
      server.plan('openai-chat-basic.sse');
      const tokens = await lastValueFrom(model.stream(conversation, { usage, task: 'self_check_output', max_tokens: 3 }).pipe(toArray()));
      return { tokens, usage, request: server.requests.at(-1)! };
    }

    it('should stream the answer', async () => {
      const { tokens } = await chatRun();
      expect(tokens.join('')).toBe('Hello! How can I assist you today?');
    });

    it('should send the model and its parameters, the per-call ones winning', async () => {
      const { request } = await chatRun();
      expect(request.body).toEqual({
        model: 'gpt-4o-mini',
        temperature: 0.2,
        max_tokens: 3,
        messages: conversation,
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('should record the call with the task it was given', async () => {
      const { usage } = await chatRun();
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ task: 'self_check_output', provider: 'openai', model: 'gpt-4o-mini' })]);
    });
  });

  it('should call the Responses API when asked to', async () => {
    const { server } = replay;
    server.plan('openai-responses-basic.sse');
    const model = openAIModel(openAIClient(server), { model: 'gpt-4.1-mini', api: 'responses' });
    expect((await lastValueFrom(model.stream(conversation).pipe(toArray()))).join('')).toBe('Hi there! How can I assist you today?');
    expect(server.requests.at(-1)).toEqual(expect.objectContaining({ path: '/v1/responses', body: { model: 'gpt-4.1-mini', input: conversation, stream: true } }));
  });

  it('should send system messages to Anthropic as the system text, with max_tokens', async () => {
    const { server } = replay;
    server.plan('anthropic-messages-basic.sse');
    const model = anthropicModel(anthropicClient(server), { model: 'claude-opus-4-7', maxTokens: 300 });
    expect((await lastValueFrom(model.stream(conversation).pipe(toArray()))).join('')).toBe('Hello there!');
    expect(server.requests.at(-1)!.body).toEqual({
      model: 'claude-opus-4-7',
      max_tokens: 300,
      system: 'Be brief.',
      messages: conversation.slice(1),
      stream: true,
    });
  });

  describe('timeout', () => {
    it("should bound every call by the model's timeout, and not send it as a request parameter", async () => {
      const { server } = replay;
      const usage = new UsageTracker();
      server.plan({ holdBeforeHeaders: true });
      const model = openAIModel(openAIClient(server), { model: 'gpt-4o-mini', timeout: 200 });
      const outcome = await collect(model.stream(conversation, { usage }));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'request', message: expect.stringContaining('within 200 ms') }));
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(request.body).not.toHaveProperty('timeout');
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error' })]);
    });

    it("should take a call's timeout over the model's wait by wait: a call's idle bound keeps the model's first-token bound", async () => {
      const { server } = replay;
      server.plan({ holdBeforeHeaders: true });
      const model = openAIModel(openAIClient(server), { model: 'gpt-4o-mini', timeout: { firstTokenMs: 200, idleMs: 60_000 } });
      const outcome = await collect(model.stream(conversation, { timeout: { idleMs: 100 } }));
      expect(outcome.error).toEqual(expect.objectContaining({ type: 'timeout', message: expect.stringContaining('no answer within 200 ms') }));
      await server.requests.at(-1)!.closed;
    });

    it("should pass a call's timeout to Anthropic too, keeping the text streamed before the stall", async () => {
      const { server } = replay;
      server.plan({ transcript: 'anthropic-messages-basic.sse', holdAfterBlocks: 5 });
      const model = anthropicModel(anthropicClient(server), { model: 'claude-opus-4-7' });
      const outcome = await collect(model.stream(conversation, { timeout: { idleMs: 200 } }));
      expect(outcome.items.join('')).toBe('Hello there');
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'anthropic', type: 'timeout', during: 'stream' }));
      expect(server.requests.at(-1)!.body).not.toHaveProperty('timeout');
      await server.requests.at(-1)!.closed;
    });

    it("should reject a call's bad timeout when the call is made", () => {
      const model = openAIModel(openAIClient(replay.server), { model: 'm' });
      expect(() => model.stream(conversation, { timeout: -1 })).toThrow(InvalidOptionError);
      expect(() => model.stream(conversation, { timeout: -1 })).toThrow('openAIModel.stream: timeout must be a positive, finite number of milliseconds, got -1');
    });
  });

  it.each([
    [() => openAIModel(openAIClient(replay.server), { model: 'm', timeout: { idleMs: 0 } }), 'openAIModel: timeout.idleMs must be a positive, finite number of milliseconds, got 0'],
    [() => anthropicModel(anthropicClient(replay.server), { model: 'm', timeout: 'soon' as never }), 'anthropicModel: timeout must be a number of milliseconds or { firstTokenMs?, idleMs? }, got "soon"'],
    [() => openAIModel(openAIClient(replay.server), { model: '' }), 'openAIModel: model must be a non-empty model id, got ""'],
    [() => openAIModel(openAIClient(replay.server), { model: 'm', api: 'completions' as never }), "openAIModel: api must be one of 'chat', 'responses', got \"completions\""],
    [() => anthropicModel(anthropicClient(replay.server), { model: 'm', maxTokens: 0 }), 'anthropicModel: maxTokens must be a positive integer, got 0'],
  ])('should reject bad options (%#)', (create, message) => {
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});
