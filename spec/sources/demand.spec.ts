// Backpressure (SourceOptions.demand, a DemandGate): a source reads on only while its consumer's demand says so.
// Each source is driven as it runs in use: the real openai and Anthropic clients against recorded streams, async
// generators through fromTokens, the scripted model, and LLMRails passing the demand to its main model.
import fc from 'fast-check';
import { type Observable, Subscription } from 'rxjs';
import {
  DemandGate,
  fromAnthropic,
  fromOpenAI,
  fromOpenAIResponses,
  fromTokens,
  InvalidOptionError,
  LLMRails,
  scriptedModel,
  UsageTracker,
} from 'rxguardrails';
import { anthropicClient, openAIClient, transcriptText, useReplayServer, user } from '../support/clients.js';
import { configOf, scriptedEngine } from '../support/configs.js';
import { fixture, numberedWords } from '../support/replayServer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Subscribes with a gate paused after the `pauseAfter`-th token: what had come by then, what came while paused
 * (`waitMs`), then everything once resumed.
 */
async function pausedRun(source$: (demand: DemandGate) => Observable<string>, pauseAfter: number, waitMs: number) {
  const demand = new DemandGate();
  const items: string[] = [];
  let settled: { error?: unknown; completed: boolean } | undefined;
  const done = new Promise<void>((resolve) => {
    source$(demand).subscribe({
      next: (item) => {
        items.push(item);
        if (items.length === pauseAfter) demand.pause();
      },
      error: (error: unknown) => {
        settled = { error, completed: false };
        resolve();
      },
      complete: () => {
        settled = { completed: true };
        resolve();
      },
    });
  });
  await sleep(waitMs);
  const whilePaused = items.length;
  const settledWhilePaused = settled !== undefined;
  demand.resume();
  await done;
  return { whilePaused, settledWhilePaused, items, settled };
}

describe('demand: sources read on only while their consumer says so', () => {
  const replay = useReplayServer();

  describe('DemandGate', () => {
    it('should say go on (undefined) until paused, then a promise settled by resume()', async () => {
      const gate = new DemandGate();
      expect(gate.ready()).toBeUndefined();
      gate.pause();
      gate.pause();
      const wait = gate.ready();
      expect(gate.paused).toBe(true);
      expect(wait).toBeInstanceOf(Promise);
      let resumed = false;
      void wait!.then(() => (resumed = true));
      await sleep(5);
      expect(resumed).toBe(false);
      gate.resume();
      await sleep(0);
      expect(resumed).toBe(true);
      expect(gate.ready()).toBeUndefined();
      expect(gate.paused).toBe(false);
    });
  });

  describe('the provider sources (real SDK clients, recorded streams)', () => {
    it('fromOpenAI: should emit nothing more while paused, and the whole answer once resumed', async () => {
      replay.server.plan('openai-chat-usage.sse');
      const expected = transcriptText(fixture('openai-chat-usage.sse'), (payload) => (payload.choices as { delta: { content?: string } }[] | undefined)?.[0]?.delta?.content);
      // The recorded stream arrives at once: every later event is already in the SDK's hands while paused.
      const run = await pausedRun((demand) => fromOpenAI(openAIClient(replay.server), { model: 'gpt-4o-mini', messages: user('Hi') }, { demand }), 3, 100);
      expect(run).toEqual({ whilePaused: 3, settledWhilePaused: false, items: expect.any(Array), settled: { completed: true } });
      expect(run.items.join('')).toBe(expected);
    });

    it('fromAnthropic: the same', async () => {
      replay.server.plan('anthropic-messages-usage.sse');
      const run = await pausedRun(
        (demand) => fromAnthropic(anthropicClient(replay.server), { model: 'claude-opus-4-7', max_tokens: 100, messages: user('Hi') }, { demand }),
        1,
        100,
      );
      expect(run).toEqual({ whilePaused: 1, settledWhilePaused: false, items: expect.any(Array), settled: { completed: true } });
      expect(run.items.length).toBeGreaterThan(1);
    });

    it('should not count a wait for demand against the idle timeout (it is the consumer, not the provider, that waits)', async () => {
      replay.server.plan('openai-chat-usage.sse');
      const run = await pausedRun(
        (demand) => fromOpenAI(openAIClient(replay.server), { model: 'gpt-4o-mini', messages: user('Hi') }, { demand, timeout: { idleMs: 50 } }),
        2,
        300,
      );
      // Without the pause of the idle wait, the 300 ms pause ends the call with an idle timeout.
      expect(run.settled).toEqual({ completed: true });
      expect(run.whilePaused).toBe(2);
    });

    it('should end a call unsubscribed while paused: recorded as cancelled, nothing emitted after, nothing left waiting', async () => {
      replay.server.plan('openai-chat-usage.sse');
      const usage = new UsageTracker();
      const demand = new DemandGate();
      const items: string[] = [];
      const subscription: Subscription = fromOpenAI(openAIClient(replay.server), { model: 'gpt-4o-mini', messages: user('Hi') }, { demand, usage }).subscribe((item) => {
        items.push(item);
        if (items.length === 2) demand.pause();
      });
      await sleep(50);
      subscription.unsubscribe();
      // The gate is never resumed (the consumer is gone): the source's wait ended with its subscription.
      await sleep(20);
      expect(items).toHaveLength(2);
      expect(usage.snapshot().calls.map((call) => call.outcome)).toEqual(['cancelled']);
    });

    it.each([
      ['fromOpenAI', () => fromOpenAI(openAIClient(replay.server), { model: 'm', messages: user('Hi') }, { demand: 5 as never })],
      ['fromOpenAIResponses', () => fromOpenAIResponses(openAIClient(replay.server), { model: 'm', input: 'Hi' }, { demand: {} as never })],
      ['fromAnthropic', () => fromAnthropic(anthropicClient(replay.server), { model: 'm', max_tokens: 5, messages: user('Hi') }, { demand: null as never })],
      ['fromTokens', () => fromTokens(['a'], { demand: 'fast' as never })],
      ['scriptedModel.stream', () => scriptedModel(['a']).stream(user('Hi'), { demand: { ready: true } as never })],
    ])('%s: should refuse a demand without ready() by name, at the call', (owner, call) => {
      expect(call).toThrow(InvalidOptionError);
      expect(call).toThrow(new RegExp(`^${owner.replace('.', '\\.')}: options\\.demand must be a DemandGate \\(or an object with ready\\(\\)\\), got `));
    });
  });

  describe('fromTokens', () => {
    it('should not pull an async generator while paused (property: any pause points, the whole answer in order)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 30 }), fc.uniqueArray(fc.nat(30)), async (tokens, pausePoints) => {
          let pulled = 0;
          async function* produce() {
            for (const token of tokens) {
              pulled++;
              await Promise.resolve();
              yield token;
            }
          }
          const demand = new DemandGate();
          const items: string[] = [];
          const pauses = new Set(pausePoints);
          let violations = 0;
          await new Promise<void>((resolve, reject) => {
            fromTokens(produce, { demand }).subscribe({
              next: (token) => {
                if (demand.paused) violations++;
                items.push(token);
                if (!pauses.has(items.length)) return;
                demand.pause();
                const pulledAtPause = pulled;
                // Resumed a task later: meanwhile the producer is not asked for more.
                setTimeout(() => {
                  if (pulled !== pulledAtPause) violations++;
                  demand.resume();
                }, 1);
              },
              error: reject,
              complete: resolve,
            });
          });
          expect({ items, violations }).toEqual({ items: tokens, violations: 0 });
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('scriptedModel', () => {
    it('should give an answer at no delay at most 256 words per task to a consumer with a demand, and stop while paused', async () => {
      const answer = numberedWords(1_000);
      const model = scriptedModel([answer.join('')]);
      const items: string[] = [];
      const demand = new DemandGate();
      let completed = false;
      model.stream(user('Hi'), { demand }).subscribe({
        next: (word) => {
          items.push(word);
          if (items.length === 300) demand.pause();
        },
        complete: () => (completed = true),
      });
      // The first slice at once, synchronously: at most 256 words (fewer when the turn's budget for bursts, 2 ms
      // shared with every other source, runs out first), never the whole answer in one task.
      expect(items.length).toBeGreaterThanOrEqual(1);
      expect(items.length).toBeLessThanOrEqual(256);
      await sleep(100);
      expect(items).toHaveLength(300);
      demand.resume();
      await sleep(50);
      expect({ completed, text: items.join('') }).toEqual({ completed: true, text: answer.join('') });
      // Without a demand, all at once as before.
      const all: string[] = [];
      model.stream(user('Hi')).subscribe((word) => all.push(word));
      expect(all).toHaveLength(1_000);
    });

    it('should pause a paced answer without an idle timeout, then go on at its pace', async () => {
      const model = scriptedModel(['one two three four'], { delayMs: 5, timeout: { idleMs: 40 } });
      const run = await pausedRun((demand) => model.stream(user('Hi'), { demand }), 2, 120);
      expect(run).toEqual({ whilePaused: 2, settledWhilePaused: false, items: ['one ', 'two ', 'three ', 'four'], settled: { completed: true } });
    });
  });

  describe('LLMRails', () => {
    it('should pass the demand to its main model (stream, answer and generate alike)', async () => {
      const rails = new LLMRails(configOf({ models: [scriptedEngine([numberedWords(600).join('')])], streaming: true }));
      const run = await pausedRun((demand) => rails.stream(user('Hi'), { demand }), 400, 50);
      expect(run.whilePaused).toBe(400);
      expect(run.items.join('')).toBe(numberedWords(600).join(''));
      const answered = await pausedRun((demand) => rails.answer(user('Hi'), { demand }), 10, 50);
      expect(answered.whilePaused).toBe(10);
    });

    it('should pass it to an async generator, and refuse one without ready()', async () => {
      const rails = new LLMRails(configOf({ streaming: true }));
      async function* generator() {
        for (const word of numberedWords(20)) {
          await Promise.resolve();
          yield word;
        }
      }
      const run = await pausedRun((demand) => rails.stream(user('Hi'), { demand, generator: generator() }), 5, 50);
      expect(run).toEqual({ whilePaused: 5, settledWhilePaused: false, items: numberedWords(20), settled: { completed: true } });
      expect(() => rails.stream(user('Hi'), { demand: 1 as never })).toThrow('LLMRails: demand must be a DemandGate (or an object with ready()), got 1');
    });
  });
});
