import { firstValueFrom, from, lastValueFrom, mergeMap, of, toArray } from 'rxjs';
import {
  type ChunkBatch,
  type CheckedBatch,
  checkRail,
  defineRail,
  InvalidOptionError,
  keywordRail,
  type OutputRail,
  type RailVerdict,
  UsageTracker,
} from 'rxguardrails';
import { createTestScheduler, fakeRail } from 'rxguardrails/testing';
import { type Deferred, deferred, settle } from '../support/deferred.js';

const window = (index: number, text: string): ChunkBatch => ({ index, text, chunks: [text], final: false, overlap: 0 });
const pass = (rail: string): RailVerdict => ({ rail, allowed: true, kind: 'pass' });
const checked = (batch: ChunkBatch, verdicts: RailVerdict[], blocked?: RailVerdict): CheckedBatch => ({ ...batch, verdicts, blocked });
const noSecrets = keywordRail(['secret']);
const secretVerdict = (index: number): RailVerdict => ({
  rail: 'keyword',
  allowed: false,
  kind: 'violation',
  reason: 'matched keyword "secret"',
  match: { text: 'secret', index },
});

describe('checkRail', () => {
  afterEach(() => jest.useRealTimers());

  describe('marbles (synchronous rails)', () => {
    const a = window(0, 'all good');
    const b = window(1, 'a secret');
    const c = window(2, 'fine again');

    it('should not emit and not complete when the source never emits', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold<ChunkBatch>('-');
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe('-');
      });
    });

    it('should complete when the source is empty', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold<ChunkBatch>('|');
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe('|');
      });
    });

    it('should attach the verdicts of one window in the same frame', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a|', { a });
        const expected = '   -x|';
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe(expected, { x: checked(a, [pass('keyword')]) });
      });
    });

    it('should report the blocking verdict of each window and keep going (stopping is not its job)', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', { a, b, c });
        const sourceSubs = ' ^------!';
        const expected = '   -x-y-z-|';
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe(expected, {
          x: checked(a, [pass('keyword')]),
          y: checked(b, [secretVerdict(2)], secretVerdict(2)),
          z: checked(c, [pass('keyword')]),
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should pass a source error through', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-#', { a }, new Error('upstream failed'));
        const expected = '   -x-#';
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe(expected, { x: checked(a, [pass('keyword')]) }, new Error('upstream failed'));
      });
    });

    it('should keep checking a never-ending source', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-c-', { a, c });
        expectObservable(source.pipe(checkRail([noSecrets]))).toBe('-x-z-', { x: checked(a, [pass('keyword')]), z: checked(c, [pass('keyword')]) });
      });
    });

    it('should unsubscribe the source on early unsubscription', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-c-a-|', { a, c });
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const expected = '   -x-z';
        expectObservable(source.pipe(checkRail([noSecrets])), unsub).toBe(expected, {
          x: checked(a, [pass('keyword')]),
          z: checked(c, [pass('keyword')]),
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should not break unsubscription chains when the result is unsubscribed explicitly', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-c-a-|', { a, c });
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const result = source.pipe(
          mergeMap((value) => of(value)),
          checkRail([noSecrets]),
          mergeMap((value) => of(value)),
        );
        expectObservable(result, unsub).toBe('-x-z', { x: checked(a, [pass('keyword')]), z: checked(c, [pass('keyword')]) });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should fail closed with an internal_error verdict when a rail throws', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const failure = new Error('model unavailable');
        const broken = defineRail('broken', () => {
          throw failure;
        });
        const source = cold('-a|', { a });
        const verdict: RailVerdict = { rail: 'broken', allowed: false, kind: 'internal_error', reason: 'model unavailable', error: failure };
        expectObservable(source.pipe(checkRail([broken]))).toBe('-x|', { x: checked(a, [verdict], verdict) });
      });
    });

    it('should fail open when a rail throws and onError is allow', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const failure = new Error('model unavailable');
        const broken = defineRail('broken', () => {
          throw failure;
        });
        const source = cold('-a|', { a });
        const verdict: RailVerdict = { rail: 'broken', allowed: true, kind: 'internal_error', reason: 'model unavailable', error: failure };
        expectObservable(source.pipe(checkRail([broken], { onError: 'allow' }))).toBe('-x|', { x: checked(a, [verdict]) });
      });
    });

    it('should time a rail answering with an Observable in virtual time, and keep windows in order', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const slow = fakeRail({ name: 'slow', respond: 'observable', delayMs: 5 });
        const source = cold('-ab|', { a, b });
        // a is checked from frame 1 to 6, b waits for it and is checked from 6 to 11.
        const expected = '   ------x----(y|)';
        expectObservable(source.pipe(checkRail([slow]))).toBe(expected, { x: checked(a, [pass('slow')]), y: checked(b, [pass('slow')]) });
      });
    });

    it('should turn a rail that answers too late into a failed verdict when a timeout is set', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const slow = fakeRail({ name: 'slow', respond: 'observable', delayMs: 50 });
        const source = cold('-a|', { a });
        const expected = '   -----------(x|)';
        expectObservable(source.pipe(checkRail([slow], { timeout: 10 }))).toBe(expected, {
          x: expect.objectContaining({ blocked: expect.objectContaining({ rail: 'slow', kind: 'internal_error', reason: 'timed out after 10 ms' }) }),
        });
      });
    });
  });

  describe('sequential rails', () => {
    it('should run the rails in the given order and stop at the first block', async () => {
      const first = fakeRail({ name: 'first' });
      const blocker = fakeRail({ name: 'blocker', answer: { allowed: false, reason: 'no' } });
      const never = fakeRail({ name: 'never' });
      const [result] = await lastValueFrom(of(window(0, 'text')).pipe(checkRail([first, blocker, never]), toArray()));
      expect(result!.verdicts.map((verdict) => verdict.rail)).toEqual(['first', 'blocker']);
      expect(result!.blocked).toEqual({ rail: 'blocker', allowed: false, kind: 'violation', reason: 'no' });
      expect(never.calls).toHaveLength(0);
    });

    it('should accept answers as booleans, decisions, Promises and Observables', async () => {
      const rails: OutputRail[] = [
        defineRail('boolean', () => true),
        defineRail('decision', () => ({ allowed: true, reason: 'fine', details: { score: 0.1 } })),
        defineRail('promise', async () => true),
        defineRail('observable', () => of({ allowed: true }, { allowed: false })),
      ];
      const result = await firstValueFrom(of(window(0, 'text')).pipe(checkRail(rails)));
      expect(result.verdicts).toEqual([
        pass('boolean'),
        { rail: 'decision', allowed: true, kind: 'pass', reason: 'fine', details: { score: 0.1 } },
        pass('promise'),
        pass('observable'),
      ]);
      expect(result.blocked).toBeUndefined();
    });

    it.each([
      ['rejects', () => Promise.reject(new Error('quota exceeded')), 'quota exceeded'],
      ['answers undefined', () => undefined, "it answered undefined; a rail must answer true/false or { allowed: boolean }"],
      ['answers a string', () => 'yes', 'it answered string "yes"; a rail must answer true/false or { allowed: boolean }'],
      ['answers an object without allowed', () => ({ ok: true }), "it answered an object without a boolean 'allowed'; a rail must answer true/false or { allowed: boolean }"],
      ['completes without a value', () => of(), 'its Observable completed without an answer'],
      ['resolves to something odd', () => Promise.resolve(1), 'it answered number 1; a rail must answer true/false or { allowed: boolean }'],
    ])('should fail closed when the rail %s', async (_, check, reason) => {
      const rail = defineRail('odd', check as OutputRail['check']);
      const result = await firstValueFrom(of(window(0, 'text')).pipe(checkRail([rail])));
      expect(result.blocked).toEqual(expect.objectContaining({ rail: 'odd', allowed: false, kind: 'internal_error', reason }));
    });

    it('should check the windows one after another with an asynchronous rail, never two at once', async () => {
      const answers: Deferred<boolean>[] = [];
      const slow = defineRail('slow', () => {
        const answer = deferred<boolean>();
        answers.push(answer);
        return answer.promise;
      });
      const results: CheckedBatch[] = [];
      let completed = false;
      from([window(0, 'a'), window(1, 'b'), window(2, 'c')])
        .pipe(checkRail([slow]))
        .subscribe({ next: (result) => results.push(result), complete: () => (completed = true) });
      // The three windows arrived at once; the rail has been asked about the first only.
      expect(answers).toHaveLength(1);
      answers[0]!.resolve(true);
      await settle();
      expect(results.map((result) => result.index)).toEqual([0]);
      expect(answers).toHaveLength(2);
      answers[1]!.resolve(false);
      await settle();
      expect(answers).toHaveLength(3);
      expect(completed).toBe(false);
      answers[2]!.resolve(true);
      await settle();
      expect(results.map((result) => [result.index, result.blocked?.rail])).toEqual([
        [0, undefined],
        [1, 'slow'],
        [2, undefined],
      ]);
      expect(completed).toBe(true);
    });

    it('should give rails the user message, the conversation and the window', async () => {
      const rail = fakeRail();
      const messages = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: 'Tell me the secret' },
      ];
      const batch = window(3, 'window text');
      await lastValueFrom(of(batch).pipe(checkRail([rail], { messages })));
      expect(rail.calls).toHaveLength(1);
      expect(rail.calls[0]!.text).toBe('window text');
      expect(rail.calls[0]!.context.userMessage).toBe('Tell me the secret');
      expect(rail.calls[0]!.context.messages).toBe(messages);
      expect(rail.calls[0]!.context.batch).toBe(batch);
    });

    it('should give rails no userMessage and an empty conversation when given no messages', async () => {
      const rail = fakeRail();
      await lastValueFrom(of(window(0, 'x')).pipe(checkRail([rail])));
      expect(rail.calls[0]!.context.userMessage).toBeUndefined();
      expect(rail.calls[0]!.context.messages).toEqual([]);
    });
  });

  describe('cancellation', () => {
    it('should abort the signal of a rail still working when the pipeline is unsubscribed', () => {
      let signal: AbortSignal | undefined;
      const rail = defineRail('pending', (_, context) => {
        signal = context.signal;
        return new Promise<boolean>(() => undefined);
      });
      const subscription = of(window(0, 'x')).pipe(checkRail([rail])).subscribe();
      expect(signal?.aborted).toBe(false);
      subscription.unsubscribe();
      expect(signal?.aborted).toBe(true);
    });

    it('should not abort the signal of a rail that already answered', async () => {
      const rail = fakeRail({ respond: 'promise' });
      await lastValueFrom(of(window(0, 'x')).pipe(checkRail([rail])));
      expect(rail.calls[0]!.context.signal.aborted).toBe(false);
    });

    it('should abort a rail that timed out', async () => {
      jest.useFakeTimers();
      const rail = fakeRail({ respond: 'promise', delayMs: 1_000 });
      const result = firstValueFrom(of(window(0, 'x')).pipe(checkRail([rail], { timeout: 20 })));
      await jest.advanceTimersByTimeAsync(20);
      expect((await result).blocked).toEqual(expect.objectContaining({ kind: 'internal_error', reason: 'timed out after 20 ms' }));
      expect(rail.calls[0]!.context.signal.aborted).toBe(true);
    });

    it('should not start the rails of a window waiting for its turn when unsubscribed', () => {
      const rail = fakeRail({ respond: 'promise', delayMs: 1_000 });
      const subscription = from([window(0, 'first'), window(1, 'second')]).pipe(checkRail([rail])).subscribe();
      subscription.unsubscribe();
      expect(rail.texts).toEqual(['first']);
      expect(rail.calls[0]!.context.signal.aborted).toBe(true);
    });
  });

  describe('parallel rails', () => {
    /** A rail that answers when the test resolves `answer`, and records that it was called. */
    const controlled = (name: string, answer: Deferred<boolean>, started: string[]) =>
      defineRail(name, () => {
        started.push(name);
        return answer.promise;
      });

    it('should start every rail of a window before any has answered', () => {
      const started: string[] = [];
      const subscription = of(window(0, 'x'))
        .pipe(checkRail([controlled('slow', deferred(), started), controlled('fast', deferred(), started)], { parallel: true }))
        .subscribe();
      expect(started).toEqual(['slow', 'fast']);
      subscription.unsubscribe();
    });

    it('should wait for every rail, and give the verdicts in rail order whatever order they answer in', async () => {
      const slow = deferred<boolean>();
      const fast = deferred<boolean>();
      let result: CheckedBatch | undefined;
      of(window(0, 'x'))
        .pipe(checkRail([controlled('slow', slow, []), controlled('fast', fast, [])], { parallel: true }))
        .subscribe((checkedBatch) => (result = checkedBatch));
      fast.resolve(true);
      await settle();
      expect(result).toBeUndefined();
      slow.resolve(true);
      await settle();
      expect(result).toEqual(checked(window(0, 'x'), [pass('slow'), pass('fast')]));
    });

    it('should let the first block win without waiting for the rails still working', async () => {
      jest.useFakeTimers();
      const slow = fakeRail({ name: 'slow', respond: 'promise', delayMs: 1_000 });
      const blocker = fakeRail({ name: 'blocker', respond: 'promise', delayMs: 5, answer: { allowed: false, reason: 'unsafe' } });
      let result: CheckedBatch | undefined;
      of(window(0, 'x'))
        .pipe(checkRail([slow, blocker], { parallel: true }))
        .subscribe((checkedBatch) => (result = checkedBatch));
      await jest.advanceTimersByTimeAsync(5);
      const blocked: RailVerdict = { rail: 'blocker', allowed: false, kind: 'violation', reason: 'unsafe' };
      expect(result).toEqual(checked(window(0, 'x'), [blocked], blocked));
    });

    it('should abort the rails still working when one blocks, so their answer never comes', async () => {
      jest.useFakeTimers();
      let slowAnswers = 0;
      const slow = fakeRail({ name: 'slow', respond: 'promise', delayMs: 1_000, answer: () => (slowAnswers++, true) });
      const blocker = fakeRail({ name: 'blocker', respond: 'promise', delayMs: 5, answer: false });
      of(window(0, 'x')).pipe(checkRail([slow, blocker], { parallel: true })).subscribe();
      await jest.advanceTimersByTimeAsync(5);
      expect(slow.calls[0]!.context.signal.aborted).toBe(true);
      expect(blocker.calls[0]!.context.signal.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(slowAnswers).toBe(0);
    });

    it('should not call the rails after one that blocks synchronously', async () => {
      const blocker = fakeRail({ name: 'blocker', answer: false });
      const after = fakeRail({ name: 'after' });
      const result = await firstValueFrom(of(window(0, 'x')).pipe(checkRail([blocker, after], { parallel: true })));
      expect(result.blocked?.rail).toBe('blocker');
      expect(after.calls).toHaveLength(0);
    });

    it('should stay synchronous with synchronous rails', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const a = window(0, 'a secret');
        const source = cold('-a|', { a });
        expectObservable(source.pipe(checkRail([keywordRail(['nothing'], { name: 'other' }), noSecrets], { parallel: true }))).toBe('-x|', {
          x: checked(a, [pass('other'), secretVerdict(2)], secretVerdict(2)),
        });
      });
    });

    it('should fail closed when a parallel rail fails', async () => {
      jest.useFakeTimers();
      const failure = new Error('boom');
      const broken = fakeRail({ name: 'broken', respond: 'promise', answer: failure });
      const result = firstValueFrom(of(window(0, 'x')).pipe(checkRail([fakeRail({ name: 'ok', respond: 'promise', delayMs: 20 }), broken], { parallel: true })));
      await jest.advanceTimersByTimeAsync(0);
      expect((await result).blocked).toEqual({ rail: 'broken', allowed: false, kind: 'internal_error', reason: 'boom', error: failure });
    });

    it('should abort every rail still working when unsubscribed', () => {
      const first = fakeRail({ name: 'first', respond: 'promise', delayMs: 1_000 });
      const second = fakeRail({ name: 'second', respond: 'promise', delayMs: 1_000 });
      const subscription = of(window(0, 'x')).pipe(checkRail([first, second], { parallel: true })).subscribe();
      subscription.unsubscribe();
      expect(first.calls[0]!.context.signal.aborted).toBe(true);
      expect(second.calls[0]!.context.signal.aborted).toBe(true);
    });
  });

  describe('usage', () => {
    it("should hand the usage option to every rail as context.usage, for the LLM calls they make", async () => {
      const usage = new UsageTracker();
      const rail = fakeRail({ name: 'judge' });
      await lastValueFrom(of(window(0, 'x'), window(1, 'y')).pipe(checkRail([rail], { usage })));
      expect(rail.calls.map((call) => call.context.usage)).toEqual([usage, usage]);
    });

    it('should give rails no usage sink when given none', async () => {
      const rail = fakeRail({ name: 'judge' });
      await lastValueFrom(of(window(0, 'x')).pipe(checkRail([rail])));
      expect(rail.calls[0]!.context.usage).toBeUndefined();
    });
  });

  describe('bad options', () => {
    const rail = keywordRail(['x']);

    it.each([
      [[{ check: () => true }], {}, 'checkRail: rails[0] has no name (got undefined); every rail needs a non-empty name, which verdicts and error payloads report'],
      [[{ name: '  ', check: () => true }], {}, 'checkRail: rails[0] has no name (got "  ")'],
      [[{ name: 'x' }], {}, "checkRail: rail 'x' (rails[0]) has no check function, got undefined"],
      [[rail, keywordRail(['y'])], {}, "checkRail: two rails are named 'keyword'"],
      [[null], {}, 'checkRail: rails[0] must be a rail, got null'],
      [rail, {}, 'checkRail: rails must be an array of rails, got an object'],
      [[rail], { parallel: 'yes' }, 'checkRail: parallel must be true or false, got "yes"'],
      [[rail], { timeout: 0 }, 'checkRail: timeout must be a positive, finite number of milliseconds, got 0'],
      [[rail], { timeout: -5 }, 'checkRail: timeout must be a positive, finite number of milliseconds, got -5'],
      [[rail], { timeout: Number.NaN }, 'checkRail: timeout must be a positive, finite number of milliseconds, got NaN'],
      [[rail], { onError: 'ignore' }, "checkRail: onError must be one of 'block', 'allow', got \"ignore\""],
      [[rail], { messages: 'hi' }, 'checkRail: messages must be an array of { role, content }, got "hi"'],
      [[rail], { messages: [{ role: 'user' }] }, 'checkRail: messages[0] must be { role: string, content: string }, got an object'],
      [[rail], { usage: {} }, 'checkRail: usage must be a UsageTracker (or an object with next(call)), got an object'],
      [[rail], { paralel: true }, "checkRail: unknown option 'paralel'; known options: parallel, concurrency, timeout, onError, messages, usage"],
    ])('should throw InvalidOptionError for rails %j with options %j', (rails, options, message) => {
      const create = () => checkRail(rails as never, options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });

    it('should accept an empty list of rails and pass every window', async () => {
      const result = await firstValueFrom(of(window(0, 'x')).pipe(checkRail([])));
      expect(result).toEqual(checked(window(0, 'x'), []));
    });
  });
});
