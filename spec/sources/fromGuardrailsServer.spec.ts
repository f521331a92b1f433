// fromGuardrailsServer: the browser client of the guardrails server, driven against the REAL server (createApp on
// 127.0.0.1, scripted models) and against a raw node:http server replaying recorded SSE bytes with the faults a
// network shows (split anywhere, dropped, stalled, malformed, error statuses).
import fc from 'fast-check';
import { defer, finalize, firstValueFrom, lastValueFrom, type Observable, take, tap, toArray } from 'rxjs';
import {
  type ChatMessage,
  type ChatModel,
  fromGuardrailsServer,
  type FromGuardrailsServerOptions,
  InvalidOptionError,
  type LlmCallInfo,
  ProviderError,
  RailViolationError,
  scriptedModel,
} from 'rxguardrails';
import { useReplayServer, user } from '../support/clients.js';
import { collect } from '../support/collect.js';
import { streamDroppedAfter } from '../support/drops.js';
import { deferred } from '../support/deferred.js';
import { estimateCompletionTokens, estimatePromptTokens } from '../../lib/usage/CallRecorder.js';
import { blocksOf, fixture, sse } from '../support/replayServer.js';
import { ask, type Running, start } from '../server/serverHarness.js';

const CLEAN = 'Hello there! How can I help you today?';
const SECRET = 'Happy to help. The admin password is hunter2, keep it safe.';
const answers = (messages: readonly ChatMessage[]) => (messages.at(-1)!.content.includes('password') ? SECRET : CLEAN);

/** A sink that keeps every record it is given. */
const records = () => {
  const calls: LlmCallInfo[] = [];
  return { calls, sink: { next: (call: LlmCallInfo) => void calls.push(call) } };
};

describe('fromGuardrailsServer', () => {
  describe('against the real guardrails server', () => {
    let running: Running;
    beforeAll(async () => {
      running = await start({ configDir: 'spec/fixtures/client-configs', models: { main: scriptedModel(answers) }, defaultConfigId: 'on_violation_error' });
    });
    afterAll(() => running.close());
    const from = (options: Partial<FromGuardrailsServerOptions> = {}) =>
      fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('Hi'), ...options });

    it('should stream a clean answer token by token and complete', async () => {
      const outcome = await collect(from({ configId: 'on_violation_error' }));
      expect(outcome).toEqual({ items: expect.any(Array), completed: true });
      expect(outcome.items.length).toBeGreaterThan(1);
      expect(outcome.items.join('')).toBe(CLEAN);
    });

    it('should use the server default config when no configId is given', async () => {
      expect((await lastValueFrom(from().pipe(toArray()))).join('')).toBe(CLEAN);
    });

    it.each(['error', 'chunk', 'replace'])(
      'should error with RailViolationError naming the rail, and no forbidden text, when a config with on_violation: %s blocks',
      async (mode) => {
        const outcome = await collect(from({ configId: `on_violation_${mode}`, messages: ask('password?') }));
        expect(outcome.completed).toBe(false);
        const error = outcome.error as RailViolationError;
        expect(RailViolationError.isInstance(error)).toBe(true);
        expect(error.message).toBe('Blocked by keyword check rails.');
        expect(error.info.rail).toBe('keyword check');
        expect(error.info.verdict).toEqual(expect.objectContaining({ rail: 'keyword check', allowed: false, kind: 'violation' }));
        // The payload as the server sent it, and back out of toJSON() byte for byte as NeMo words it.
        const payload = { message: 'Blocked by keyword check rails.', type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' };
        expect(error.info.verdict.details).toEqual({ payload });
        expect(error.toJSON()).toEqual({ error: payload });
        expect(outcome.items.join('')).toBe('Happy to help. ');
        expect(outcome.items.join('')).not.toContain('password');
      },
    );

    it('should report an unknown config as a ProviderError with status 404 and the server message', async () => {
      const { items, error } = await collect(from({ configId: 'nope' }));
      expect(items).toEqual([]);
      expect(ProviderError.isInstance(error)).toBe(true);
      expect(error).toEqual(expect.objectContaining({ status: 404, code: 'config_not_found', during: 'request', retryable: false, provider: 'guardrails-server' }));
      expect((error as ProviderError).message).toContain("The guardrails config 'nope' does not exist; this server has: on_violation_chunk, on_violation_error, on_violation_replace.");
    });

    it('should record the call once, with the usage the server counted, when given usage', async () => {
      const { calls, sink } = records();
      expect((await lastValueFrom(from({ usage: sink }).pipe(toArray()))).join('')).toBe(CLEAN);
      expect(calls).toEqual([
        expect.objectContaining({ provider: 'guardrails-server', model: 'default', task: 'general', promptTokens: 1, completionTokens: 8, totalTokens: 9, estimated: false, outcome: 'completed' }),
      ]);
    });

    it('should record a blocked call once, estimated, as an error', async () => {
      const { calls, sink } = records();
      await collect(from({ usage: sink, task: 'chat', messages: ask('password?') }));
      expect(calls).toEqual([expect.objectContaining({ task: 'chat', estimated: true, outcome: 'error' })]);
    });

    it('should record an unsubscribed call once, as cancelled', async () => {
      const { calls, sink } = records();
      await firstValueFrom(from({ usage: sink }).pipe(take(1)));
      expect(calls).toEqual([expect.objectContaining({ estimated: true, outcome: 'cancelled' })]);
    });
  });

  describe('input rails on the real server', () => {
    let running: Running;
    beforeAll(async () => {
      running = await start({ configDir: 'spec/fixtures/server-input-rails', defaultConfigId: 'blocking' });
    });
    afterAll(() => running.close());

    it("should stream the refusal as text by default, as the server (and NeMo) answer an input-rail block", async () => {
      const outcome = await collect(fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('Hi') }));
      expect(outcome).toEqual({ items: ["I'm sorry, I can't respond to that."], completed: true });
    });

    it("should error with RailViolationError with onInputViolation: 'error'", async () => {
      const { items, error } = await collect(fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('Hi'), onInputViolation: 'error' }));
      expect(items).toEqual([]);
      expect(RailViolationError.isInstance(error)).toBe(true);
      expect((error as RailViolationError).info.rail).toBe('self check input');
    });
  });

  describe('with an API key', () => {
    let running: Running;
    beforeAll(async () => {
      running = await start({ configDir: 'spec/fixtures/client-configs', models: { main: scriptedModel(answers) }, defaultConfigId: 'on_violation_error', apiKey: 'sekrit' });
    });
    afterAll(() => running.close());

    it('should answer with the right key', async () => {
      expect((await lastValueFrom(fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('Hi'), apiKey: 'sekrit' }).pipe(toArray()))).join('')).toBe(CLEAN);
    });

    it.each([['a wrong key', 'guess'], ['no key', undefined]])('should report %s as a ProviderError with status 401', async (_label, apiKey) => {
      const { error } = await collect(fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('Hi'), ...(apiKey ? { apiKey } : {}) }));
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', status: 401, code: 'invalid_api_key', retryable: false }));
      expect((error as Error).message).toContain('Incorrect or missing API key');
    });
  });

  describe('cancellation on the real server', () => {
    it("should cancel the server's model stream when unsubscribed mid-stream", async () => {
      const scripted = scriptedModel(['one two three four five six seven eight nine ten eleven twelve thirteen fourteen'], { delayMs: 30 });
      const finalized = deferred<void>();
      let words = 0;
      let completed = false;
      const main: ChatModel = {
        ...scripted,
        stream: (messages, options) =>
          defer(() => (scripted.stream(messages, options) as Observable<string>).pipe(
            tap({ next: () => words++, complete: () => (completed = true) }),
            finalize(() => finalized.resolve()),
          )),
      };
      const running = await start({ configDir: 'spec/fixtures/client-configs', models: { main }, defaultConfigId: 'on_violation_error' });
      try {
        const first = await firstValueFrom(fromGuardrailsServer({ baseURL: `${running.url}/v1`, messages: ask('count') }).pipe(take(2), toArray()));
        expect(first.join('')).toBe('one two ');
        await finalized.promise;
        expect(completed).toBe(false);
        expect(words).toBeLessThan(14);
      } finally {
        await running.close();
      }
    });
  });

  describe('against a raw HTTP server replaying bytes', () => {
    const replay = useReplayServer();
    const from = (options: Partial<FromGuardrailsServerOptions> = {}) => fromGuardrailsServer({ baseURL: replay.server.openAIBaseURL, messages: user('Hi'), ...options });
    const chunk = (content: string | null, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] });

    it('should send one POST to <baseURL>/chat/completions with the request, the config and the key', async () => {
      replay.server.plan('openai-chat-basic.sse');
      const { sink } = records();
      await lastValueFrom(from({ baseURL: `${replay.server.openAIBaseURL}/`, configId: 'demo', apiKey: 'k', params: { temperature: 0.2 }, usage: sink }).pipe(toArray()));
      const request = replay.server.requests.at(-1)!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.headers).toEqual(expect.objectContaining({ authorization: 'Bearer k', 'content-type': 'application/json' }));
      expect(request.body).toEqual({ temperature: 0.2, model: 'demo', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true }, config_id: 'demo' });
    });

    it('should ask for no usage frame when nobody records it, and set guardrails.input_violation when asked', async () => {
      replay.server.plan('openai-chat-basic.sse');
      await lastValueFrom(from({ onInputViolation: 'error', params: { guardrails: { config_id: 'x' } } }).pipe(toArray()));
      expect(replay.server.requests.at(-1)!.body).toEqual({ model: 'default', messages: [{ role: 'user', content: 'Hi' }], stream: true, guardrails: { config_id: 'x', input_violation: 'error' } });
    });

    it('should be cold: each subscription is one request', async () => {
      replay.server.plan('openai-chat-basic.sse', 'openai-chat-basic.sse');
      const before = replay.server.requests.length;
      const tokens$ = from();
      expect(replay.server.requests.length).toBe(before);
      const [a, b] = await Promise.all([lastValueFrom(tokens$.pipe(toArray())), lastValueFrom(tokens$.pipe(toArray()))]);
      expect(a).toEqual(b);
      expect(replay.server.requests.length).toBe(before + 2);
    });

    it.each([
      ['openai-chat-basic.sse', 'Hello! How can I assist you today?'],
      ['openai-chat-usage-legacy.sse', '{"city":"San Francisco","units":"c"}'],
    ])('should give the same tokens however %s is split, inside UTF-8 characters too', async (name, text) => {
      const transcript = fixture(name);
      replay.server.plan(name);
      const whole = await lastValueFrom(from().pipe(toArray()));
      expect(whole.join('')).toBe(text);
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: transcript.length - 1 }), { maxLength: 60 }), async (offsets) => {
          replay.server.plan({ transcript, splitAt: [...offsets].sort((a, b) => a - b) });
          expect(await lastValueFrom(from().pipe(toArray()))).toEqual(whole);
        }),
        { numRuns: 30 },
      );
    });

    it('should give the same tokens with a multi-byte character split anywhere', async () => {
      const transcript = sse([chunk('héllo wörld ✓ 😀'), chunk(null, 'stop')], { done: true });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: transcript.length - 1 }), { maxLength: 20 }), async (offsets) => {
          replay.server.plan({ transcript, splitAt: [...offsets].sort((a, b) => a - b) });
          expect(await lastValueFrom(from().pipe(toArray()))).toEqual(['héllo wörld ✓ 😀']);
        }),
        { numRuns: 30 },
      );
    });

    it("should record the server's usage frame once (the large fixture, with details)", async () => {
      const { calls, sink } = records();
      replay.server.plan('openai-chat-usage.sse');
      const text = (await lastValueFrom(from({ usage: sink }).pipe(toArray()))).join('');
      expect(text).toHaveLength(1724);
      expect(calls).toEqual([expect.objectContaining({ promptTokens: 16, completionTokens: 300, totalTokens: 316, estimated: false, outcome: 'completed' })]);
    });

    it('should record the call exactly once however it ends: complete, dropped, cut short, or unsubscribed early', async () => {
      const transcript = fixture('openai-chat-usage-legacy.sse');
      const blocks = transcript.toString().split('\n\n').length - 1;
      await fc.assert(
        fc.asyncProperty(
          fc.option(fc.integer({ min: 1, max: blocks }), { nil: undefined }),
          fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
          async (dropAfterBlocks, taken) => {
            const { calls, sink } = records();
            replay.server.plan({ transcript, ...(dropAfterBlocks === undefined ? {} : { dropAfterBlocks }) });
            const tokens$ = from({ usage: sink });
            await collect(taken === undefined ? tokens$ : tokens$.pipe(take(taken)));
            await replay.server.requests.at(-1)?.closed;
            expect(calls).toHaveLength(1);
            // The server's counts only from its usage frame, which comes last: a call that ended before it is estimated.
            expect(calls[0]!.estimated).toBe(!(calls[0]!.promptTokens === 17 && calls[0]!.completionTokens === 10));
          },
        ),
        { numRuns: 30 },
      );
    });

    it('should turn an error frame mid-stream into a ProviderError, after the text already sent', async () => {
      replay.server.plan('openai-chat-error.sse');
      const { items, error } = await collect(from());
      expect(items.join('')).toBe('Hello! How');
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'server_error', during: 'stream', retryable: true }));
      expect((error as Error).message).toContain('The server had an error processing your request.');
    });

    it('should turn an internal_error frame (a rail that failed) into a RailViolationError of kind internal_error', async () => {
      const failure = { error: { message: 'Internal error in flaky check rail: boom', type: 'internal_error', param: 'flaky check', code: 'rail_execution_failure' } };
      replay.server.plan({ transcript: sse([chunk('Hi '), failure], { done: true }) });
      const { items, error } = await collect(from());
      expect(items).toEqual(['Hi ']);
      expect(RailViolationError.isInstance(error)).toBe(true);
      expect((error as RailViolationError).info.verdict).toEqual(expect.objectContaining({ kind: 'internal_error', reason: 'boom', rail: 'flaky check' }));
      expect((error as RailViolationError).toJSON()).toEqual(failure);
    });

    it('should complete when the stream ends after a finish_reason, without [DONE]', async () => {
      replay.server.plan({ transcript: sse([chunk('A'), chunk('B'), chunk(null, 'stop')]) });
      expect(await collect(from())).toEqual({ items: ['A', 'B'], completed: true });
    });

    it('should complete at [DONE] without reading on', async () => {
      replay.server.plan({ transcript: Buffer.concat([sse([chunk('A')], { done: true }), sse([chunk('never')])]) });
      expect(await collect(from())).toEqual({ items: ['A'], completed: true });
    });

    it('should report a stream that ends with neither [DONE] nor a finish_reason as truncated', async () => {
      replay.server.plan({ transcript: sse([chunk('A'), chunk('B')]) });
      const { items, error } = await collect(from());
      expect(items).toEqual(['A', 'B']);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', code: 'truncated', during: 'stream', retryable: true }));
    });

    it("should report a stream that ends after another choice's finish_reason, not choice 0's, as truncated", async () => {
      // The text emitted is choice 0's: another choice's finish says nothing about it.
      const otherFinished = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 1, delta: {}, finish_reason: 'stop' }] };
      replay.server.plan({ transcript: sse([chunk('A'), otherFinished]) });
      const { items, error } = await collect(from());
      expect(items).toEqual(['A']);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', code: 'truncated', during: 'stream' }));
    });

    it('should report a connection dropped mid-stream as a connection_error', async () => {
      replay.server.plan({ transcript: 'openai-chat-basic.sse', dropAfterBlocks: 3 });
      const { items, error } = await collect(from());
      expect(items).toEqual(['Hello', '!']);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream' }));
    });

    describe('a connection that drops once the answer is whole', () => {
      // The legacy transcript ends as a server asked for usage ends its stream: ..., choice 0's finish frame, the usage
      // frame, [DONE]. The server writes its first blocks, then destroys the socket instead of ending the chunked body.
      const transcript = fixture('openai-chat-usage-legacy.sse');
      const blocks = blocksOf(transcript).length;
      const text = '{"city":"San Francisco","units":"c"}';
      const violation = { error: { message: 'Blocked by keyword check rails.', type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' } };
      /** The transcript's blocks up to its finish frame, then `after` (frames or raw SSE text). */
      const thenAfterFinish = (...after: (object | Buffer)[]) =>
        Buffer.concat([...blocksOf(transcript).slice(0, -2), ...after.map((frame) => (Buffer.isBuffer(frame) ? frame : sse([frame])))]);

      it('should end with the finish frame, the usage frame and [DONE] (what the cases below count on)', () => {
        const [finish, usageFrame, done] = blocksOf(transcript).slice(-3).map((block) => block.toString('utf8'));
        expect(finish).toContain('"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]');
        expect(usageFrame).toContain('"choices":[],"usage":{"prompt_tokens":17,"completion_tokens":10,"total_tokens":27}');
        expect(done).toBe('data: [DONE]\n\n');
      });

      it('should complete, recording the usage frame once, when the connection drops after it, before [DONE]', async () => {
        const { calls, sink } = records();
        const outcome = await streamDroppedAfter(replay.server, transcript, blocks - 1, from({ usage: sink }));
        expect(outcome).toEqual({ items: expect.any(Array), completed: true });
        expect(outcome.items.join('')).toBe(text);
        expect(calls).toEqual([expect.objectContaining({ outcome: 'completed', estimated: false, promptTokens: 17, completionTokens: 10, totalTokens: 27 })]);
      });

      it('should complete, recording estimated usage once, when the connection drops after the finish frame, before the usage frame', async () => {
        const { calls, sink } = records();
        const outcome = await streamDroppedAfter(replay.server, transcript, blocks - 2, from({ usage: sink }));
        expect(outcome).toEqual({ items: expect.any(Array), completed: true });
        expect(outcome.items.join('')).toBe(text);
        // As a cancellation records it: the counts CallRecorder estimates from the messages and the text.
        const promptTokens = estimatePromptTokens(user('Hi'));
        const completionTokens = estimateCompletionTokens(text.length, outcome.items.length);
        expect(calls).toEqual([
          expect.objectContaining({ outcome: 'completed', estimated: true, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }),
        ]);
      });

      it('should complete without usage when nobody records it and the connection drops after the finish frame', async () => {
        replay.server.plan({ transcript, dropAfterBlocks: blocks - 2 });
        const outcome = await collect(from());
        expect(outcome).toEqual({ items: expect.any(Array), completed: true });
        expect(outcome.items.join('')).toBe(text);
        expect(replay.server.requests.at(-1)!.body).not.toHaveProperty('stream_options');
      });

      it('should still fail when the connection drops before the finish frame, keeping the text emitted', async () => {
        const { calls, sink } = records();
        // Every delta was sent, but not the finish frame: nothing says the answer was whole.
        replay.server.plan({ transcript, dropAfterBlocks: blocks - 3 });
        const outcome = await collect(from({ usage: sink }));
        expect(outcome.completed).toBe(false);
        expect(outcome.items.join('')).toBe(text);
        expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream', retryable: true }));
        await replay.server.requests.at(-1)!.closed;
        expect(calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
      });

      it("should still fail when the connection drops after another choice's finish frame, not choice 0's", async () => {
        // The text emitted is choice 0's: another choice's finish says nothing about it.
        const otherFinished = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 1, delta: {}, finish_reason: 'stop' }] };
        replay.server.plan({ transcript: Buffer.concat([...blocksOf(transcript).slice(0, -3), sse([otherFinished])]), dropAfterBlocks: blocks - 2 });
        const outcome = await collect(from());
        expect(outcome.items.join('')).toBe(text);
        expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'stream' }));
      });

      it('should complete a whole answer whose body then stalls at the idle bound, closing the request', async () => {
        const { calls, sink } = records();
        // The finish frame and the usage frame, then the response is held open: no [DONE], no end.
        replay.server.plan({ transcript, holdAfterBlocks: blocks - 1 });
        const outcome = await collect(from({ usage: sink, timeout: { idleMs: 200 } }));
        expect(outcome).toEqual({ items: expect.any(Array), completed: true });
        expect(outcome.items.join('')).toBe(text);
        const request = replay.server.requests.at(-1)!;
        await request.closed;
        expect(request.ended).toBe(false);
        expect(request.disconnectedAt).toEqual(expect.any(Number));
        expect(calls).toEqual([expect.objectContaining({ outcome: 'completed', estimated: false, completionTokens: 10 })]);
      });

      it('should still time out an answer that stalls before its finish frame', async () => {
        replay.server.plan({ transcript, holdAfterBlocks: blocks - 3 });
        const outcome = await collect(from({ timeout: { idleMs: 100 } }));
        expect(outcome.items.join('')).toBe(text);
        expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', code: 'upstream_timeout', retryable: true }));
        await replay.server.requests.at(-1)!.closed;
      });

      it.each([
        ['then [DONE]', sse([], { done: true }), undefined],
        ['then a dropped connection', Buffer.alloc(0), 1],
      ])('should still error with RailViolationError for a violation frame after the finish frame, %s', async (_, rest, dropAfterTail) => {
        const { calls, sink } = records();
        const violating = thenAfterFinish(violation, rest);
        const dropAfterBlocks = dropAfterTail === undefined ? undefined : blocks - 2 + dropAfterTail;
        replay.server.plan({ transcript: violating, ...(dropAfterBlocks === undefined ? {} : { dropAfterBlocks }) });
        const outcome = await collect(from({ usage: sink }));
        expect(outcome.completed).toBe(false);
        expect(outcome.items.join('')).toBe(text);
        const error = outcome.error as RailViolationError;
        expect(RailViolationError.isInstance(error)).toBe(true);
        expect(error.info.rail).toBe('keyword check');
        expect(error.toJSON()).toEqual(violation);
        await replay.server.requests.at(-1)!.closed;
        expect(calls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
      });

      it("should still error with RailViolationError of kind internal_error for a rail's failure frame after the finish frame", async () => {
        const failure = { error: { message: 'Internal error in flaky check rail: boom', type: 'internal_error', param: 'flaky check', code: 'rail_execution_failure' } };
        replay.server.plan({ transcript: thenAfterFinish(failure), dropAfterBlocks: blocks - 1 });
        const { items, error } = await collect(from());
        expect(items.join('')).toBe(text);
        expect(RailViolationError.isInstance(error)).toBe(true);
        expect((error as RailViolationError).info.verdict).toEqual(expect.objectContaining({ kind: 'internal_error', rail: 'flaky check' }));
      });

      it.each([
        ['an error frame', sse([{ error: { message: 'The server is shutting down.', type: 'server_error', param: null, code: 'server_shutting_down' } }]), { type: 'server_error', code: 'server_shutting_down' }],
        ['a frame that is not JSON', Buffer.from('data: {"error": {"type": "guardrails_viol\n\n'), { type: 'invalid_response', code: 'malformed_frame' }],
      ])('should still error with a ProviderError for %s after the finish frame, though the connection then drops', async (_, frame, expected) => {
        replay.server.plan({ transcript: thenAfterFinish(frame), dropAfterBlocks: blocks - 1 });
        const { items, error } = await collect(from());
        expect(items.join('')).toBe(text);
        expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', during: 'stream', ...expected }));
      });
    });

    it('should name a frame that is not JSON', async () => {
      replay.server.plan({ transcript: Buffer.from(`${sse([chunk('A')]).toString()}data: {"choices": [oops\n\n`) });
      const { items, error } = await collect(from());
      expect(items).toEqual(['A']);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'invalid_response', code: 'malformed_frame', retryable: false }));
      expect((error as Error).message).toContain('the server sent a frame that is not JSON: "{\\"choices\\": [oops"');
    });

    it('should stop reading an event that never ends past its bound', async () => {
      replay.server.plan({ transcript: Buffer.from(`data: ${'x'.repeat(1024 * 1024 + 10)}`) });
      const { error } = await collect(from());
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', code: 'event_too_large' }));
    });

    it('should time out a server that stalls mid-stream, with timeout, and close the connection', async () => {
      replay.server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 3 });
      const { items, error } = await collect(from({ timeout: { idleMs: 100 } }));
      expect(items).toEqual(['Hello', '!']);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', retryable: true }));
      await replay.server.requests.at(-1)!.closed;
    });

    it('should abort the request when unsubscribed: the server sees the disconnect', async () => {
      replay.server.plan({ transcript: 'openai-chat-usage.sse', delayMs: 20 });
      const first = await firstValueFrom(from().pipe(take(3), toArray()));
      const request = replay.server.requests.at(-1)!;
      await request.closed;
      expect(first).toHaveLength(3);
      expect(request.ended).toBe(false);
      expect(request.disconnectedAt).toEqual(expect.any(Number));
    });

    it("should abort on the external signal and error with the signal's reason", async () => {
      replay.server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 2 });
      const controller = new AbortController();
      const reason = new Error('user left');
      // Aborted a task after the first token: it is delivered, then the signal ends the stream.
      const { items, error } = await collect(from({ signal: controller.signal }).pipe(tap(() => setTimeout(() => controller.abort(reason), 0))));
      expect(items).toEqual(['Hello']);
      expect(error).toBe(reason);
      await replay.server.requests.at(-1)!.closed;
    });

    it('should not send a request for a signal already aborted', async () => {
      const before = replay.server.requests.length;
      const { error } = await collect(from({ signal: AbortSignal.abort(new Error('too late')) }));
      expect((error as Error).message).toBe('too late');
      expect(replay.server.requests.length).toBe(before);
    });

    it.each([
      [429, { error: { message: 'Rate limited', type: 'rate_limit_error', param: null, code: null } }, { 'retry-after': '2' }, { status: 429, type: 'rate_limit_error', retryable: true, retryAfter: 2 }],
      [503, { error: { message: "The guardrails config 'x' cannot answer: set OPENAI_API_KEY", type: 'server_error', param: 'config_id', code: 'config_unavailable' } }, {}, { status: 503, code: 'config_unavailable', retryable: true }],
      [413, { error: { message: 'The request body is larger than 1048576 bytes.', type: 'invalid_request_error', param: null, code: 'request_too_large' } }, {}, { status: 413, code: 'request_too_large', retryable: false }],
      [502, { error: { message: 'The model provider failed: openai: HTTP 500', type: 'api_error', param: null, code: null } }, {}, { status: 502, type: 'api_error', retryable: true }],
    ])('should report HTTP %i as a ProviderError with the server message', async (status, body, headers, expected) => {
      replay.server.plan({ status, body, headers });
      const { items, error } = await collect(from());
      expect(items).toEqual([]);
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', during: 'request', ...expected }));
      expect((error as Error).message).toContain(body.error.message);
    });

    it('should report a 200 that is not an event stream', async () => {
      replay.server.plan({ transcript: Buffer.from('{"ok": true}'), headers: { 'content-type': 'application/json' } });
      const { error } = await collect(from());
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'invalid_response' }));
      expect((error as Error).message).toContain('expected a text/event-stream answer, got application/json');
    });

    it('should report a server that cannot be reached as a connection_error', async () => {
      const { error } = await collect(fromGuardrailsServer({ baseURL: 'http://127.0.0.1:9/v1', messages: user('Hi') }));
      expect(error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'connection_error', during: 'request', retryable: true }));
      expect((error as Error).message).toContain('cannot reach the guardrails server at http://127.0.0.1:9/v1/chat/completions');
    });

    it('should use the fetch it is given', async () => {
      const seen: string[] = [];
      const fetcher: typeof fetch = (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      };
      replay.server.plan('openai-chat-basic.sse');
      await lastValueFrom(from({ fetch: fetcher }).pipe(toArray()));
      expect(seen).toEqual([`${replay.server.openAIBaseURL}/chat/completions`]);
    });
  });

  describe('options', () => {
    const base = { baseURL: 'http://127.0.0.1:8000/v1', messages: user('Hi') };
    it.each<[string, unknown, string]>([
      ['no options', undefined, 'fromGuardrailsServer: options must be an object with baseURL and messages, got undefined'],
      ['a baseURL that is not http(s)', { ...base, baseURL: 'ftp://x' }, 'fromGuardrailsServer: baseURL must be an http(s) URL, got "ftp://x"'],
      ['no messages', { baseURL: base.baseURL }, 'fromGuardrailsServer: messages must be an array of { role, content }, got undefined'],
      ['empty messages', { ...base, messages: [] }, 'fromGuardrailsServer: messages must be a non-empty array, got an array'],
      ['a message without content', { ...base, messages: [{ role: 'user' }] }, 'fromGuardrailsServer: messages[0] must be { role: string, content: string }, got an object'],
      ['an empty configId', { ...base, configId: '' }, 'fromGuardrailsServer: configId must be a non-empty string of at most 256 characters, got ""'],
      ['an apiKey that is not a string', { ...base, apiKey: 42 }, 'fromGuardrailsServer: apiKey must be a non-empty string, got 42'],
      ['params with messages', { ...base, params: { messages: [] } }, 'fromGuardrailsServer: params.messages must be left out (fromGuardrailsServer sets it), got an array'],
      ['params with stream', { ...base, params: { stream: false } }, 'fromGuardrailsServer: params.stream must be left out (fromGuardrailsServer sets it), got false'],
      ['an unknown onInputViolation', { ...base, onInputViolation: 'ignore' }, "fromGuardrailsServer: onInputViolation must be one of 'refuse', 'error', got \"ignore\""],
      ['a fetch that is not a function', { ...base, fetch: 'fetch' }, 'fromGuardrailsServer: fetch must be a fetch function, got "fetch"'],
      ['a usage that is not a sink', { ...base, usage: {} }, 'fromGuardrailsServer: usage must be a UsageTracker (or an object with next(call)), got an object'],
      ['a bad timeout', { ...base, timeout: -1 }, 'fromGuardrailsServer: timeout must be a positive, finite number of milliseconds, got -1'],
      ['a model id over 256 characters', { ...base, model: 'm'.repeat(257) }, 'fromGuardrailsServer: model must be a non-empty string of at most 256 characters, got "mmm'],
      ['a typo', { ...base, configID: 'x' }, "fromGuardrailsServer: unknown option 'configID' (did you mean 'configId'?)"],
    ])('should throw InvalidOptionError when called with %s', (_label, options, message) => {
      const call = () => fromGuardrailsServer(options as FromGuardrailsServerOptions);
      expect(call).toThrow(InvalidOptionError);
      expect(call).toThrow(message);
    });
  });
});
