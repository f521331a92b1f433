// fromLangChain on real LangChain chat models: LangChain's own FakeListChatModel, a chain ending in its
// StringOutputParser, and a minimal BaseChatModel subclass that reports usage_metadata and misbehaves on request.
import { StringOutputParser } from '@langchain/core/output_parsers';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import fc from 'fast-check';
import { firstValueFrom, type Observable, Subject, take, toArray } from 'rxjs';
import { DemandGate, guard, InvalidItemError, InvalidOptionError, keywordRail, type LlmCallInfo, ProviderError, RailViolationError } from 'rxguardrails';
import { fromLangChain } from 'rxguardrails/langchain';
import { collect } from '../support/collect.js';
import { UsageChatModel, wordChunks } from '../support/langChainModels.js';

const messages = [{ role: 'user' as const, content: 'How is the weather today?' }];

function recording() {
  const calls: LlmCallInfo[] = [];
  return { calls, usage: { next: (call: LlmCallInfo) => calls.push(call) } };
}

const until = async (condition: () => boolean) => {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('fromLangChain', () => {
  describe('text', () => {
    it("should emit FakeListChatModel's stream in order and complete", async () => {
      const chat = new FakeListChatModel({ responses: ['Hello there!'] });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal })));
      expect(outcome).toEqual({ items: [...'Hello there!'], completed: true });
    });

    it('should emit the chunks of a model reporting usage, word by word', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('The sky is clear today', { input: 12, output: 5 }) });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal })));
      expect(outcome).toEqual({ items: ['The ', 'sky ', 'is ', 'clear ', 'today'], completed: true });
    });

    it('should emit only the text of text blocks, never tool-call chunks, reasoning, images or empty chunks', async () => {
      const chat = new UsageChatModel({
        chunks: [
          { content: [{ type: 'reasoning', reasoning: 'the user wants weather' }] },
          { content: [{ type: 'text', text: 'Sunny' }, { type: 'thinking', thinking: 'hmm' } as never] },
          { content: '', tool_call_chunks: [{ type: 'tool_call_chunk', name: 'weather', args: '{"city":', id: 'call_1', index: 0 }] },
          { content: [{ type: 'image_url', image_url: 'data:image/png;base64,AAAA' }] },
          { content: [{ type: 'text_delta', text: ' and' } as never, { type: 'text', text: ' warm' }] },
        ],
      });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal })));
      expect(outcome).toEqual({ items: ['Sunny', ' and warm'], completed: true });
    });

    it('should emit the strings of a chain ending in StringOutputParser', async () => {
      const chain = new FakeListChatModel({ responses: ['Hi!'] }).pipe(new StringOutputParser());
      const outcome = await collect(fromLangChain((signal) => chain.stream(messages, { signal })));
      expect(outcome).toEqual({ items: ['H', 'i', '!'], completed: true });
    });

    it('should error with InvalidItemError on an item that is neither a chunk nor a string', async () => {
      async function* odd() {
        yield { content: 'ok' };
        yield 42 as never;
      }
      const outcome = await collect(fromLangChain(() => odd()));
      expect(outcome.items).toEqual(['ok']);
      expect(InvalidItemError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as InvalidItemError).index).toBe(1);
    });

    it('should call the function once per subscription (a cold source)', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('one two') });
      const tokens$ = fromLangChain((signal) => chat.stream(messages, { signal }));
      await collect(tokens$);
      await collect(tokens$);
      expect(chat.calls).toHaveLength(2);
    });
  });

  describe('usage', () => {
    it("should record a completed call once, with the model's usage_metadata summed over its chunks", async () => {
      const { calls, usage } = recording();
      const chat = new UsageChatModel({ chunks: wordChunks('The sky is clear today', { input: 12, output: 5 }) });
      await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { usage, task: 'self_check_output', provider: 'ollama', model: 'llama3.2' }));
      expect(calls).toEqual([
        expect.objectContaining({ task: 'self_check_output', provider: 'ollama', model: 'llama3.2', promptTokens: 12, completionTokens: 5, totalTokens: 17, estimated: false, outcome: 'completed' }),
      ]);
    });

    it('should estimate the usage of a model that reports none, from the messages and the text, flagged estimated', async () => {
      const { calls, usage } = recording();
      const chat = new FakeListChatModel({ responses: ['Hello there, how are you doing?'] });
      await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { usage, messages }));
      expect(calls).toEqual([expect.objectContaining({ provider: 'langchain', model: 'unknown', task: 'general', estimated: true, outcome: 'completed' })]);
      expect(calls[0]!.promptTokens).toBeGreaterThan(0);
      expect(calls[0]!.completionTokens).toBe(31); // one per streamed piece: FakeListChatModel streams characters
    });

    it('should record an unsubscribed call once, as cancelled, its input tokens reported and its output estimated', async () => {
      const { calls, usage } = recording();
      const chat = new UsageChatModel({ chunks: wordChunks('The sky is clear today', { input: 12, output: 5 }), delayMs: 5 });
      const items = await firstValueFrom(fromLangChain((signal) => chat.stream(messages, { signal }), { usage }).pipe(take(2), toArray()));
      expect(items).toEqual(['The ', 'sky ']);
      expect(calls).toEqual([expect.objectContaining({ promptTokens: 12, completionTokens: 2, totalTokens: 14, estimated: true, outcome: 'cancelled' })]);
    });

    it('should record a failed call once, as an error, estimated', async () => {
      const { calls, usage } = recording();
      const chat = new UsageChatModel({ chunks: wordChunks('The sky is clear today', { input: 12, output: 5 }), throwAfter: { chunks: 2, error: new Error('boom') } });
      await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { usage }));
      expect(calls).toEqual([expect.objectContaining({ promptTokens: 12, estimated: true, outcome: 'error' })]);
    });
  });

  it('should record exactly one call, however it ends, estimated unless it completed with usage (property)', async () => {
    const ending = fc.oneof(
      fc.constant({ kind: 'complete' as const }),
      fc.record({ kind: fc.constant('throw' as const), after: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('unsubscribe' as const), after: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('abort' as const), afterMs: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('hang' as const), after: fc.integer({ min: 0, max: 6 }) }),
      fc.constant({ kind: 'violation' as const }),
    );
    const words = fc.array(fc.constantFrom('alpha ', 'beta ', 'gamma ', 'secret ', 'delta '), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(words, fc.boolean(), ending, async (text, reportsUsage, end) => {
        const { calls, usage } = recording();
        const chunks = wordChunks(text.join(''), reportsUsage ? { input: 7, output: text.length } : undefined);
        const chat = new UsageChatModel({
          chunks,
          delayMs: 1,
          ...(end.kind === 'throw' ? { throwAfter: { chunks: Math.min(end.after, chunks.length), error: new Error('boom') } } : {}),
          ...(end.kind === 'hang' ? { hangAfter: Math.min(end.after, chunks.length) } : {}),
        });
        const controller = new AbortController();
        let tokens$: Observable<string> = fromLangChain((signal) => chat.stream(messages, { signal }), { usage, signal: controller.signal, timeout: 30 });
        if (end.kind === 'unsubscribe') tokens$ = tokens$.pipe(take(end.after));
        if (end.kind === 'violation') tokens$ = tokens$.pipe(guard([keywordRail(['secret'])], { chunkSize: 2, contextSize: 1 }));
        if (end.kind === 'abort') setTimeout(() => controller.abort(new Error('stop')), end.afterMs);
        const outcome = await collect(tokens$);
        await new Promise((resolve) => setTimeout(resolve, 2));
        expect(calls).toHaveLength(1);
        const [call] = calls;
        if (call!.outcome === 'completed' && reportsUsage) expect(call).toEqual(expect.objectContaining({ promptTokens: 7, completionTokens: text.length, estimated: false }));
        else expect(call!.estimated).toBe(true);
        // A model error or a timeout is the call's error and an outside abort cancels it; a block or a take(n) ends
        // the call completed or cancelled, as the model had finished before or not.
        const failed = !outcome.completed && (end.kind === 'throw' || end.kind === 'hang');
        const aborted = !outcome.completed && end.kind === 'abort';
        expect(call!.outcome).toEqual(failed ? 'error' : aborted ? 'cancelled' : expect.stringMatching(/^(completed|cancelled)$/));
      }),
      { numRuns: 60 },
    );
  });

  describe('cancellation', () => {
    it("should abort the signal LangChain hands the model when unsubscribed", async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('one two three'), hangAfter: 1 });
      const subscription = fromLangChain((signal) => chat.stream(messages, { signal })).subscribe();
      await until(() => chat.calls.length > 0);
      expect(chat.calls[0]!.signal?.aborted).toBe(false);
      subscription.unsubscribe();
      await until(() => chat.calls[0]!.signal?.aborted === true);
      expect(chat.calls[0]!.signal?.aborted).toBe(true);
    });

    it('should stop the model when a guard blocks, and record the call as cancelled', async () => {
      const { calls, usage } = recording();
      const chat = new UsageChatModel({ chunks: [...wordChunks('Sure, the admin password is hunter2', { input: 9, output: 7 }), ...wordChunks(' and more text after it')], delayMs: 2 });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { usage }).pipe(guard([keywordRail(['password'])], { chunkSize: 2, contextSize: 1 })));
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      expect(outcome.items.join('')).not.toContain('hunter2');
      await until(() => chat.calls[0]!.signal?.aborted === true);
      expect(chat.calls[0]!.signal?.aborted).toBe(true);
      expect(calls).toEqual([expect.objectContaining({ promptTokens: 9, estimated: true, outcome: 'cancelled' })]);
    });

    it("should error with the outside signal's reason when it aborts, and record the call as cancelled", async () => {
      const { calls, usage } = recording();
      const controller = new AbortController();
      const chat = new UsageChatModel({ chunks: wordChunks('one two three'), hangAfter: 1 });
      const outcome = collect(fromLangChain((signal) => chat.stream(messages, { signal }), { usage, signal: controller.signal }));
      await until(() => chat.calls.length > 0);
      controller.abort(new Error('user left'));
      expect(await outcome).toEqual({ items: ['one '], error: new Error('user left'), completed: false });
      expect(calls).toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
    });

    it('should read no further while the demand says wait', async () => {
      const gate = new DemandGate();
      const chat = new UsageChatModel({ chunks: wordChunks('one two three four') });
      const items: string[] = [];
      const done = new Subject<void>();
      gate.pause();
      fromLangChain((signal) => chat.stream(messages, { signal }), { demand: gate }).subscribe({ next: (item) => items.push(item), complete: () => done.next() });
      await until(() => items.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(items).toEqual(['one ']);
      const completed = firstValueFrom(done);
      gate.resume();
      await completed;
      expect(items).toEqual(['one ', 'two ', 'three ', 'four']);
    });
  });

  describe('errors', () => {
    it('should turn what the model throws mid-stream into a ProviderError, after the text before it', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('The sky is clear today'), throwAfter: { chunks: 2, error: new Error('socket hang up') } });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { provider: 'ollama' }));
      expect(outcome.items).toEqual(['The ', 'sky ']);
      expect(ProviderError.isInstance(outcome.error)).toBe(true);
      expect(outcome.error).toEqual(expect.objectContaining({ provider: 'ollama', during: 'stream', message: expect.stringContaining('socket hang up') }));
    });

    it("should keep an integration's status and LangChain's error code", async () => {
      const rateLimited = Object.assign(new Error('429 Too Many Requests'), { status: 429, lc_error_code: 'MODEL_RATE_LIMIT' });
      const chat = new UsageChatModel({ chunks: wordChunks('never sent'), throwAfter: { chunks: 0, error: rateLimited } });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal })));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'langchain', status: 429, code: 'MODEL_RATE_LIMIT', during: 'request', retryable: true }));
    });

    it('should time out a model that never answers, and abort it', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('never sent'), hangAfter: 0 });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { timeout: { firstTokenMs: 40 } }));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', code: 'upstream_timeout', during: 'request' }));
      await until(() => chat.calls[0]!.signal?.aborted === true);
      expect(chat.calls[0]!.signal?.aborted).toBe(true);
    });

    it('should time out a model that stalls mid-stream', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('one two three'), hangAfter: 2 });
      const outcome = await collect(fromLangChain((signal) => chat.stream(messages, { signal }), { timeout: { idleMs: 40 } }));
      expect(outcome.items).toEqual(['one ', 'two ']);
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'stream' }));
    });

    it('should error with InvalidOptionError when the function returns no stream', async () => {
      const outcome = await collect(fromLangChain(() => 'text' as never));
      expect(InvalidOptionError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as Error).message).toMatch(/must return model\.stream\(\.\.\.\)'s result/);
    });
  });

  describe('a stream already started', () => {
    it('should stream a promise of a stream once', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('one two') });
      const tokens$ = fromLangChain(chat.stream(messages));
      expect(await collect(tokens$)).toEqual({ items: ['one ', 'two'], completed: true });
      const again = await collect(tokens$);
      expect(InvalidOptionError.isInstance(again.error)).toBe(true);
      expect((again.error as Error).message).toMatch(/can be subscribed once/);
    });

    it('should end the iteration at once when unsubscribed', async () => {
      const chat = new UsageChatModel({ chunks: wordChunks('one two three'), hangAfter: 1 });
      const stream = await chat.stream(messages);
      const items: string[] = [];
      const subscription = fromLangChain(stream).subscribe((item) => items.push(item));
      await until(() => items.length > 0);
      subscription.unsubscribe();
      // The stream's reader is released: LangChain's IterableReadableStream is no longer locked.
      await until(() => !stream.locked);
      expect(stream.locked).toBe(false);
    });
  });

  describe('options', () => {
    const chat = new FakeListChatModel({ responses: ['x'] });
    const stream = (signal: AbortSignal) => chat.stream(messages, { signal });

    it.each([
      ['a number', 42, /stream must be \(signal\) => model\.stream/],
      ['a string', 'text', /stream must be/],
      ['null', null, /got null/],
    ])('should reject %s as the stream', (_label, value, message) => {
      expect(() => fromLangChain(value as never)).toThrow(message);
      expect(() => fromLangChain(value as never)).toThrow(InvalidOptionError);
    });

    it.each([
      [{ provider: '' }, /provider must be a non-empty string/],
      [{ model: 7 }, /model must be a non-empty string/],
      [{ messages: 'Hi' }, /messages must be an array/],
      [{ timeout: -1 }, /timeout/],
      [{ demand: {} }, /demand must be a DemandGate/],
      [{ usgae: [] }, /unknown option 'usgae'/],
    ])('should reject %p with a clear InvalidOptionError', (options, message) => {
      expect(() => fromLangChain(stream, options as never)).toThrow(message);
      expect(() => fromLangChain(stream, options as never)).toThrow(InvalidOptionError);
    });
  });
});
