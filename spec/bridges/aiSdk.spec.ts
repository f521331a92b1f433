import type { LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider';
import { generateText, simulateReadableStream, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import fc from 'fast-check';
import { defineRail, InvalidOptionError, keywordRail, type OutputRail } from 'rxguardrails';
import { guardrailsMiddleware, type GuardrailsMiddlewareOptions, guardTransform } from 'rxguardrails/ai-sdk';

const USAGE: LanguageModelV4Usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 20, text: 20, reasoning: undefined },
};

const FINISH: LanguageModelV4StreamPart = { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: USAGE };

/** One text block of these deltas, then the provider's finish. */
function textParts(deltas: readonly string[], id = 't1'): LanguageModelV4StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id },
    ...deltas.map((delta): LanguageModelV4StreamPart => ({ type: 'text-delta', id, delta })),
    { type: 'text-end', id },
    FINISH,
  ];
}

/** A model streaming `chunks`; `cancelled` resolves with the reason when the consumer side cancels its stream. */
function streamingModel(chunks: readonly LanguageModelV4StreamPart[], options: { hangAfter?: boolean; chunkDelayInMs?: number } = {}) {
  let cancel!: (value: true) => void;
  const cancelled = new Promise<true>((resolve) => (cancel = resolve));
  const pulled: LanguageModelV4StreamPart[] = [];
  const model = new MockLanguageModelV4({
    doStream: async () => {
      const inner = simulateReadableStream({ chunks: [...chunks], chunkDelayInMs: options.chunkDelayInMs ?? null });
      const reader = inner.getReader();
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) {
              if (options.hangAfter) return new Promise<void>(() => undefined);
              controller.close();
              return undefined;
            }
            pulled.push(value);
            controller.enqueue(value);
            return undefined;
          },
          cancel(reason) {
            cancel(true);
            return reader.cancel(reason);
          },
        }),
      };
    },
  });
  return { model, cancelled, pulled };
}

function guarded(model: MockLanguageModelV4, rails: readonly OutputRail[], options?: GuardrailsMiddlewareOptions) {
  return wrapLanguageModel({ model, middleware: guardrailsMiddleware(rails, options) });
}

/** The parts the wrapped model streams, read straight from doStream (below streamText). */
async function modelParts(model: ReturnType<typeof guarded>): Promise<LanguageModelV4StreamPart[]> {
  const { stream } = await model.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
  const parts: LanguageModelV4StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

const secret = () => keywordRail(['secret']);

describe('guardrailsMiddleware', () => {
  describe('when streaming', () => {
    it('should release every part unchanged when no rail blocks', async () => {
      const chunks = textParts(['Hello ', 'there, ', 'friend.']);
      const { model } = streamingModel(chunks);
      for (const streamFirst of [true, false]) {
        expect(await modelParts(guarded(model, [secret()], { chunkSize: 2, contextSize: 1, streamFirst }))).toEqual(chunks);
      }
    });

    it('should end with the replacement in the open block and a content-filter finish in mode replace', async () => {
      const { model, cancelled } = streamingModel(textParts(['a ', 'b ', 'secret ', 'c ', 'd']));
      const parts = await modelParts(guarded(model, [secret()], { chunkSize: 2, contextSize: 1, mode: 'replace', replacement: 'No.' }));
      expect(parts.slice(0, -1)).toEqual([
        { type: 'stream-start', warnings: [] },
        { type: 'text-start', id: 't1' },
        { type: 'text-delta', id: 't1', delta: 'a ' },
        { type: 'text-delta', id: 't1', delta: 'b ' },
        { type: 'text-delta', id: 't1', delta: 'secret ' },
        { type: 'text-delta', id: 't1', delta: 'No.' },
        { type: 'text-end', id: 't1' },
      ]);
      expect(parts.at(-1)).toMatchObject({
        type: 'finish',
        finishReason: { unified: 'content-filter' },
        providerMetadata: { rxguardrails: { blocked: true, rail: 'keyword', kind: 'violation', usageEstimated: true } },
      });
      await expect(cancelled).resolves.toBe(true);
    });

    it('should hold the text with streamFirst: false and release NeMo\'s payload in mode chunk', async () => {
      const { model } = streamingModel(textParts(['a ', 'b ', 'sec', 'ret ', 'c']));
      const parts = await modelParts(guarded(model, [secret()], { chunkSize: 3, contextSize: 1, streamFirst: false, mode: 'chunk' }));
      const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
      // Windows grow from contextSize + 1: "a b" passed, "a " goes out; "b sec ret" blocks, and "b " never goes out.
      expect(text).toBe('a {"error": {"message": "Blocked by keyword rails.", "type": "guardrails_violation", "param": "keyword", "code": "content_blocked"}}');
    });

    it('should end with an error part, then a content-filter finish, in mode error', async () => {
      const { model } = streamingModel(textParts(['the ', 'secret']));
      const parts = await modelParts(guarded(model, [secret()], { chunkSize: 2, contextSize: 1, streamFirst: false }));
      expect(parts.map((part) => part.type)).toEqual(['stream-start', 'text-start', 'text-end', 'error', 'finish']);
      const error = (parts[3] as { error: Error }).error;
      expect({ name: error.name, message: error.message }).toEqual({ name: 'RailViolationError', message: 'Blocked by keyword rails.' });
    });

    it('should fire onFinish and resolve totalUsage after a block, with an estimate flagged', async () => {
      const { model } = streamingModel(textParts(['the ', 'secret ', 'is ', 'out']), { hangAfter: true });
      let finished: { finishReason: string; usage: unknown } | undefined;
      const result = streamText({
        model: guarded(model, [secret()], { chunkSize: 2, contextSize: 1, mode: 'replace' }),
        prompt: 'Tell me',
        onFinish: (event) => void (finished = { finishReason: event.finishReason, usage: event.totalUsage }),
      });
      expect(await result.text).toBe("the secret I'm sorry, I can't respond to that.");
      expect(await result.finishReason).toBe('content-filter');
      const usage = await result.totalUsage;
      expect(usage.outputTokens).toBeGreaterThan(0);
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect((await result.providerMetadata)?.['rxguardrails']).toMatchObject({ usageEstimated: true, rail: 'keyword' });
      expect(finished?.finishReason).toBe('content-filter');
    });

    it("should report the provider's usage when its finish arrived before the block", async () => {
      const { model } = streamingModel(textParts(['the ', 'secret']));
      // One window of 5 at most: the answer is checked whole, after the provider's finish part.
      const result = streamText({ model: guarded(model, [secret()], { chunkSize: 5, contextSize: 1, firstChunkSize: 5, streamFirst: false, mode: 'replace' }), prompt: 'x' });
      expect(await result.text).toBe("I'm sorry, I can't respond to that.");
      expect((await result.totalUsage).outputTokens).toBe(20);
      expect((await result.providerMetadata)?.['rxguardrails']).toMatchObject({ usageEstimated: false });
    });

    it('should pass tool calls and reasoning through unchanged and in order relative to the text', async () => {
      const chunks: LanguageModelV4StreamPart[] = [
        { type: 'reasoning-start', id: 'r1' },
        { type: 'reasoning-delta', id: 'r1', delta: 'thinking' },
        { type: 'reasoning-end', id: 'r1' },
        { type: 'text-start', id: 't1' },
        { type: 'text-delta', id: 't1', delta: 'Let ' },
        { type: 'text-delta', id: 't1', delta: 'me ' },
        { type: 'text-delta', id: 't1', delta: 'check.' },
        { type: 'text-end', id: 't1' },
        { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"city":"Oslo"}' },
        { type: 'text-start', id: 't2' },
        { type: 'text-delta', id: 't2', delta: 'Done.' },
        { type: 'text-end', id: 't2' },
        FINISH,
      ];
      for (const streamFirst of [true, false]) {
        const { model } = streamingModel(chunks);
        expect(await modelParts(guarded(model, [secret()], { chunkSize: 2, contextSize: 1, streamFirst }))).toEqual(chunks);
      }
    });

    it('should fail closed when a rail throws', async () => {
      const throwing = defineRail('broken', () => {
        throw new Error('boom');
      });
      const { model } = streamingModel(textParts(['a', 'b', 'c']));
      const result = streamText({ model: guarded(model, [throwing], { chunkSize: 2, contextSize: 1, streamFirst: false, mode: 'replace' }), prompt: 'x' });
      expect(await result.text).toBe("I'm sorry, I can't respond to that.");
      expect((await result.providerMetadata)?.['rxguardrails']).toMatchObject({ kind: 'internal_error', rail: 'broken' });
    });

    it('should fail closed when a rail hangs past timeout, and cancel the model', async () => {
      const hanging = defineRail('hanging', () => new Promise<boolean>(() => undefined));
      const { model, cancelled } = streamingModel(textParts(['a', 'b', 'c']), { hangAfter: true });
      const result = streamText({ model: guarded(model, [hanging], { chunkSize: 2, contextSize: 1, streamFirst: false, mode: 'replace', timeout: 50 }), prompt: 'x' });
      expect(await result.text).toBe("I'm sorry, I can't respond to that.");
      expect(await result.finishReason).toBe('content-filter');
      await expect(cancelled).resolves.toBe(true);
    });

    it('should cancel the model when the consumer aborts', async () => {
      const { model, cancelled, pulled } = streamingModel(textParts(['a', 'b', 'c', 'd', 'e', 'f']), { chunkDelayInMs: 20 });
      const controller = new AbortController();
      const result = streamText({ model: guarded(model, [secret()], { chunkSize: 2, contextSize: 1 }), prompt: 'x', abortSignal: controller.signal });
      const reader = result.textStream.getReader();
      await reader.read();
      controller.abort();
      await expect(cancelled).resolves.toBe(true);
      expect(pulled.length).toBeLessThan(9);
    });

    it('should cancel the model when the consumer cancels the stream', async () => {
      const { model, cancelled } = streamingModel(textParts(['a', 'b', 'c', 'd']), { hangAfter: true });
      const { stream } = await guarded(model, [secret()], { chunkSize: 2, contextSize: 1 }).doStream({ prompt: [] });
      const reader = stream.getReader();
      await reader.read();
      await reader.cancel();
      await expect(cancelled).resolves.toBe(true);
    });

    it("should pass the model's stream error through, the text before it released", async () => {
      const model = new MockLanguageModelV4({
        doStream: async () => ({
          stream: new ReadableStream<LanguageModelV4StreamPart>({
            start(controller) {
              controller.enqueue({ type: 'text-start', id: 't1' });
              controller.enqueue({ type: 'text-delta', id: 't1', delta: 'a' });
              // Later: an error in start() would discard the parts still queued.
              setTimeout(() => controller.error(new Error('connection reset')), 20);
            },
          }),
        }),
      });
      const { stream } = await guarded(model, [secret()], { chunkSize: 2, contextSize: 1 }).doStream({ prompt: [] });
      const reader = stream.getReader();
      expect((await reader.read()).value).toEqual({ type: 'text-start', id: 't1' });
      expect((await reader.read()).value).toEqual({ type: 'text-delta', id: 't1', delta: 'a' });
      await expect(reader.read()).rejects.toThrow('connection reset');
    });

    it('should give the rails the call prompt as messages', async () => {
      const seen: (string | undefined)[] = [];
      const rail = defineRail('spy', (_text, context) => (seen.push(context.userMessage), true));
      const { model } = streamingModel(textParts(['a']));
      await streamText({ model: guarded(model, [rail]), prompt: 'What is up?' }).text;
      expect(seen).toEqual(['What is up?']);
    });

    it('should release no part of a forbidden phrase of at most contextSize + 1 deltas with streamFirst: false', async () => {
      const phrase = 'launch code';
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('a', 'b', ' ', 'x'), { maxLength: 12 }),
          fc.array(fc.constantFrom('a', 'c', ' ', 'z'), { maxLength: 12 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 3 }),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }),
          async (before, after, extra, contextSize, cuts) => {
            // The phrase in at most contextSize + 1 deltas; the text around it in deltas of any size.
            const pieces = splitInto(phrase, Math.min(contextSize + 1, phrase.length), cuts);
            const deltas = [...splitInto(before.join(''), 3, cuts).filter(Boolean), ...pieces, ...splitInto(after.join(''), 3, cuts).filter(Boolean)];
            const { model } = streamingModel(textParts(deltas));
            const parts = await modelParts(guarded(model, [keywordRail([phrase])], { chunkSize: contextSize + extra, contextSize, streamFirst: false, mode: 'replace', replacement: '#' }));
            const released = parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
            expect(released.endsWith('#')).toBe(true);
            // Released text is a prefix of the answer; nothing from the phrase's first character on went out.
            expect(released.slice(0, -1).length).toBeLessThanOrEqual(before.join('').length);
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('when generating', () => {
    const generating = (text: string) =>
      new MockLanguageModelV4({
        doGenerate: async () => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage: USAGE, warnings: [] }),
      });

    it('should return an allowed answer unchanged', async () => {
      const result = await generateText({ model: guarded(generating('All good.'), [secret()]), prompt: 'x' });
      expect(result.text).toBe('All good.');
      expect(result.finishReason).toBe('stop');
    });

    it('should replace a blocked answer and report content-filter with the provider usage', async () => {
      const result = await generateText({ model: guarded(generating('The secret is out.'), [secret()], { mode: 'replace', replacement: 'No.' }), prompt: 'x' });
      expect(result.text).toBe('No.');
      expect(result.finishReason).toBe('content-filter');
      expect(result.usage.outputTokens).toBe(20);
      expect(result.providerMetadata?.['rxguardrails']).toMatchObject({ blocked: true, usageEstimated: false });
    });

    it('should withhold a blocked answer in mode error', async () => {
      const result = await generateText({ model: guarded(generating('The secret is out.'), [secret()]), prompt: 'x' });
      expect(result.text).toBe('');
      expect(result.finishReason).toBe('content-filter');
    });
  });

  describe('options', () => {
    it('should throw InvalidOptionError for bad options when built', () => {
      expect(() => guardrailsMiddleware([secret()], { chunkSize: 0 })).toThrow(InvalidOptionError);
      expect(() => guardrailsMiddleware([secret()], { chunkSize: 2, contextSize: 1, colour: 'red' } as GuardrailsMiddlewareOptions)).toThrow(
        /guardrailsMiddleware: unknown option 'colour'/,
      );
      expect(() => guardrailsMiddleware('rail' as never)).toThrow(InvalidOptionError);
    });
  });
});

describe('guardTransform', () => {
  it('should pass an allowed stream through, text and tool calls in order', async () => {
    const chunks: LanguageModelV4StreamPart[] = [
      { type: 'text-start', id: 't1' },
      { type: 'text-delta', id: 't1', delta: 'Let ' },
      { type: 'text-delta', id: 't1', delta: 'me.' },
      { type: 'text-end', id: 't1' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{}' },
      FINISH,
    ];
    const { model } = streamingModel(chunks);
    const result = streamText({ model, prompt: 'x', experimental_transform: guardTransform([secret()], { chunkSize: 2, contextSize: 1, streamFirst: false }) });
    const types: string[] = [];
    for await (const part of result.fullStream) types.push(part.type === 'text-delta' ? `text:${part.text}` : part.type);
    // tool-error: streamText's own answer to a call of a tool it was not given; it comes after the call, as it should.
    expect(types).toEqual(['start', 'start-step', 'text-start', 'text:Let ', 'text:me.', 'text-end', 'tool-call', 'tool-error', 'finish-step', 'finish']);
  });

  it('should stop the model, replace the text and finish with content-filter and usage on a block', async () => {
    const { model, cancelled } = streamingModel(textParts(['the ', 'secret ', 'is ', 'out']), { hangAfter: true });
    let finishReason: string | undefined;
    const result = streamText({
      model,
      prompt: 'x',
      experimental_transform: guardTransform([secret()], { chunkSize: 2, contextSize: 1, mode: 'replace', replacement: 'No.' }),
      onFinish: (event) => void (finishReason = event.finishReason),
    });
    expect(await result.text).toBe('the secret No.');
    expect(await result.finishReason).toBe('content-filter');
    expect((await result.totalUsage).outputTokens).toBeGreaterThan(0);
    expect((await result.providerMetadata)?.['rxguardrails']).toMatchObject({ blocked: true, rail: 'keyword', usageEstimated: true });
    expect(finishReason).toBe('content-filter');
    await expect(cancelled).resolves.toBe(true);
  });

  it('should throw InvalidOptionError for bad options when built', () => {
    expect(() => guardTransform([secret()], { contextSize: -1 })).toThrow(/guardTransform: contextSize/);
  });
});

/** `text` cut into at most `parts` pieces, at positions from `cuts`. */
function splitInto(text: string, parts: number, cuts: readonly number[]): string[] {
  const pieces: string[] = [];
  let rest = text;
  for (let index = 0; index < parts - 1 && rest.length > 1; index++) {
    const size = Math.min(cuts[index % cuts.length]!, rest.length - 1);
    pieces.push(rest.slice(0, size));
    rest = rest.slice(size);
  }
  pieces.push(rest);
  return pieces;
}
