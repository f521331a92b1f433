// LLMRails.answer(): one entry point whatever the config, so a server or a chat never has to choose by catching
// StreamingNotSupportedError. It streams when the output rails stream, and otherwise gives the whole checked answer
// as one chunk.
import { Subject, take } from 'rxjs';
import { type ChatMessage, LLMRails, type RailCheckInfo, RailsConfig, RailViolationError, scriptedModel } from 'rxguardrails';
import { collect } from '../support/collect.js';

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];
const CLEAN = 'Hello there! How are you?';
const LEAKY = 'The admin password is hunter2.';

function configWith(streamingRails: boolean): RailsConfig {
  return RailsConfig.fromContent({
    models: [{ engine: 'scripted', parameters: { responses: ['unused'] } }],
    streaming: true,
    rails: {
      output: { flows: ['keyword check'], streaming: { enabled: streamingRails, chunk_size: 4, context_size: 1 } },
      config: { keyword_check: { keywords: ['password'] } },
    },
  });
}

describe('LLMRails.answer', () => {
  describe('when the output rails stream', () => {
    it('should stream the tokens as stream() does', async () => {
      const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN]) } });
      expect(await collect(rails.answer(ask('Hi')))).toEqual({ items: ['Hello ', 'there! ', 'How ', 'are ', 'you?'], completed: true });
    });

    it('should end with the violation as stream() does', async () => {
      const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([LEAKY]) } });
      const outcome = await collect(rails.answer(ask('Hi')));
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as RailViolationError).message).toBe('Blocked by keyword check rails.');
    });
  });

  describe('when the output rails check the whole answer', () => {
    it('should give the checked answer as one chunk', async () => {
      const rails = new LLMRails(configWith(false), { models: { main: scriptedModel([CLEAN]) } });
      expect(await collect(rails.answer(ask('Hi')))).toEqual({ items: [CLEAN], completed: true });
    });

    it('should give no part of a blocked answer', async () => {
      const rails = new LLMRails(configWith(false), { models: { main: scriptedModel([LEAKY]) } });
      const outcome = await collect(rails.answer(ask('Hi')));
      expect(outcome.items).toEqual([]);
      expect((outcome.error as RailViolationError).message).toBe('Blocked by keyword check rails.');
    });

    it('should stop the model when unsubscribed before the answer is whole', async () => {
      const words = new Subject<string>();
      const main = { provider: 'test', model: 'pushed', stream: () => words.asObservable() };
      const rails = new LLMRails(configWith(false), { models: { main } });
      const subscription = rails.answer(ask('Hi')).subscribe();
      words.next('Hello ');
      expect(words.observed).toBe(true);
      subscription.unsubscribe();
      expect(words.observed).toBe(false);
    });
  });

  it('should answer with no output rails at all', async () => {
    const rails = new LLMRails(RailsConfig.fromContent({ models: [{ engine: 'scripted', parameters: { responses: [CLEAN] } }], streaming: true }));
    const outcome = await collect(rails.answer(ask('Hi')).pipe(take(2)));
    expect(outcome).toEqual({ items: ['Hello ', 'there! '], completed: true });
  });

  it('should refuse messages that are not a list of messages, as stream() does', () => {
    const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN]) } });
    expect(() => rails.answer('Hi' as never)).toThrow('LLMRails.answer: messages must be an array of { role, content }, got "Hi"');
  });

  it('should refuse an unknown option, as stream() does', () => {
    const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN]) } });
    expect(() => rails.answer(ask('Hi'), { stream: true } as never)).toThrow("LLMRails.answer: unknown option 'stream'");
  });

  describe('onRailCheck (per call)', () => {
    it("should tell this call's rail checks, window by window, and not another call's", async () => {
      const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN, LEAKY]) } });
      const first: RailCheckInfo[] = [];
      const second: RailCheckInfo[] = [];
      await collect(rails.answer(ask('Hi'), { onRailCheck: (check) => first.push(check) }));
      await collect(rails.answer(ask('Hi'), { onRailCheck: (check) => second.push(check) }));
      expect(first.map(({ rail, side, windowIndex, verdict }) => [rail, side, windowIndex, verdict.allowed])).toEqual([
        ['keyword check', 'output', 0, true],
        ['keyword check', 'output', 1, true],
      ]);
      expect(second.map(({ windowIndex, verdict }) => [windowIndex, verdict.allowed])).toEqual([[0, false]]);
      for (const check of [...first, ...second]) expect(check.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('should tell it whole-answer checks too, as window 0', async () => {
      const rails = new LLMRails(configWith(false), { models: { main: scriptedModel([LEAKY]) } });
      const checks: RailCheckInfo[] = [];
      await collect(rails.answer(ask('Hi'), { onRailCheck: (check) => checks.push(check) }));
      expect(checks.map(({ windowIndex, verdict }) => [windowIndex, verdict.kind])).toEqual([[0, 'violation']]);
    });

    it('should fail the answer with what onRailCheck throws, and stop the model', async () => {
      const words = new Subject<string>();
      const main = { provider: 'test', model: 'pushed', stream: () => words.asObservable() };
      const rails = new LLMRails(configWith(true), { models: { main } });
      const thrown = new Error('the listener broke');
      const items: string[] = [];
      let failed: unknown;
      rails.answer(ask('Hi'), { onRailCheck: () => { throw thrown; } }).subscribe({ next: (item) => items.push(item), error: (error: unknown) => (failed = error) });
      for (const word of ['Hello ', 'there! ', 'How ', 'are ']) words.next(word);
      expect(failed).toBe(thrown);
      expect(words.observed).toBe(false);
      // The window whose check was being told was released before its check (stream_first), nothing after it.
      expect(items.join('')).toBe('Hello there! How are ');
    });

    it('should tell where a window released before its check ends (stream_first: true), and nothing of the sort otherwise', async () => {
      const checks: RailCheckInfo[] = [];
      await collect(new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN]) } }).answer(ask('Hi'), { onRailCheck: (check) => checks.push(check) }));
      expect(checks.map(({ windowIndex, releasedBeforeCheck }) => [windowIndex, releasedBeforeCheck])).toEqual([
        [0, 'Hello there! How are '.length],
        [1, CLEAN.length],
      ]);
      const whole: RailCheckInfo[] = [];
      await collect(new LLMRails(configWith(false), { models: { main: scriptedModel([CLEAN]) } }).answer(ask('Hi'), { onRailCheck: (check) => whole.push(check) }));
      expect(whole.map((check) => 'releasedBeforeCheck' in check)).toEqual([false]);
    });

    it('should refuse an onRailCheck that is not a function, when the call is made', () => {
      const rails = new LLMRails(configWith(true), { models: { main: scriptedModel([CLEAN]) } });
      expect(() => rails.answer(ask('Hi'), { onRailCheck: 'log' as never })).toThrow('LLMRails.answer: onRailCheck must be a function (check) => void, got "log"');
    });
  });
});
