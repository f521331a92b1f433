import { lastValueFrom, take, tap, toArray } from 'rxjs';
import { InvalidOptionError, ProviderError, scriptedModel, UsageTracker } from 'rxguardrails';
import { createTestScheduler, scriptedModel as fromTestKit } from 'rxguardrails/testing';
import { collect } from '../support/collect.js';
import { deferred } from '../support/deferred.js';

const ask = [{ role: 'user', content: 'How are you today?' }];

describe('scriptedModel', () => {
  it('should stream an answer word by word, keeping the spaces (NeMo test_streaming_generate_async_api)', async () => {
    const model = scriptedModel(['Hello there! How are you?']);
    expect(await lastValueFrom(model.stream(ask).pipe(toArray()))).toEqual(['Hello ', 'there! ', 'How ', 'are ', 'you?']);
  });

  it("should call itself provider 'scripted' and model 'scripted' by default", () => {
    expect(scriptedModel(['x'])).toEqual(expect.objectContaining({ provider: 'scripted', model: 'scripted' }));
  });

  it('should use the answers in turn, starting over after the last', async () => {
    const model = scriptedModel(['one', 'two']);
    const answers = [];
    for (let call = 0; call < 3; call++) answers.push((await lastValueFrom(model.stream(ask).pipe(toArray()))).join(''));
    expect(answers).toEqual(['one', 'two', 'one']);
  });

  it('should move on to the next answer after a call that was unsubscribed', async () => {
    const model = scriptedModel(['one two three', 'four']);
    expect(await lastValueFrom(model.stream(ask).pipe(take(1), toArray()))).toEqual(['one ']);
    expect(await lastValueFrom(model.stream(ask).pipe(toArray()))).toEqual(['four']);
  });

  it('should take a function of the messages and the call number', async () => {
    const judge = scriptedModel((messages, call) => (messages.at(-1)!.content.includes('secret') ? 'Yes' : `No ${call}`));
    const answer = async (content: string) => (await lastValueFrom(judge.stream([{ role: 'user', content }]).pipe(toArray()))).join('');
    expect(await answer('a secret')).toBe('Yes');
    expect(await answer('fine')).toBe('No 1');
  });

  it('should space the words by delayMs, in virtual time under a TestScheduler', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const model = scriptedModel(['a b c'], { delayMs: 3 });
      expectObservable(model.stream(ask)).toBe('---a--b--(c|)', { a: 'a ', b: 'b ', c: 'c' });
    });
  });

  it('should stop pacing when unsubscribed', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const model = scriptedModel(['a b c'], { delayMs: 3 });
      expectObservable(model.stream(ask), '^---!').toBe('---a', { a: 'a ' });
    });
  });

  it('should complete an empty answer at once, even with a delay', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const model = scriptedModel([''], { delayMs: 3 });
      expectObservable(model.stream(ask)).toBe('|');
    });
  });

  it('should leave no timer behind when unsubscribed in real time', () => {
    jest.useFakeTimers();
    try {
      const seen: string[] = [];
      const subscription = scriptedModel(['one two three four'], { delayMs: 10 }).stream(ask).subscribe((word) => seen.push(word));
      jest.advanceTimersByTime(25);
      expect(seen).toEqual(['one ', 'two ']);
      expect(jest.getTimerCount()).toBe(1);
      subscription.unsubscribe();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should record exact usage: the words of the messages and of the answer', async () => {
    const usage = new UsageTracker();
    await lastValueFrom(scriptedModel(['Hello there! How are you?'], { model: 'demo' }).stream(ask, { usage, task: 'general' }));
    expect(usage.snapshot().calls).toEqual([
      expect.objectContaining({ task: 'general', provider: 'scripted', model: 'demo', promptTokens: 4, completionTokens: 5, totalTokens: 9, estimated: false, outcome: 'completed' }),
    ]);
  });

  it('should record a cancelled call with the words streamed so far', async () => {
    const usage = new UsageTracker();
    await lastValueFrom(scriptedModel(['one two three four']).stream(ask, { usage }).pipe(take(2)));
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ completionTokens: 2, outcome: 'cancelled' })]);
  });

  it('should fail with an Error answer and record the failed call', async () => {
    const usage = new UsageTracker();
    const outcome = await collect(scriptedModel([new Error('model overloaded')]).stream(ask, { usage }));
    expect(String(outcome.error)).toBe('Error: model overloaded');
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', completionTokens: 0 })]);
  });

  it('should error with the reason when its signal aborts', async () => {
    const controller = new AbortController();
    const firstWord = deferred<void>();
    const pending = collect(scriptedModel(['slow answer here'], { delayMs: 20 }).stream(ask, { signal: controller.signal }).pipe(tap(() => firstWord.resolve())));
    // Between two words: the next one is 20 ms away, and only Promise callbacks run before the abort.
    await firstWord.promise;
    const reason = new Error('stopped');
    controller.abort(reason);
    const outcome = await pending;
    expect(outcome.items).toEqual(['slow ']);
    expect(outcome.error).toBe(reason);
  });

  describe('timeout', () => {
    const idleTimeout = (bound: number) =>
      new ProviderError({ provider: 'scripted', type: 'timeout', code: 'upstream_timeout', during: 'stream', detail: `the stream stalled: nothing for ${bound} ms since the last event (idle timeout)` });

    it('should fail with a timeout ProviderError when the next word is later than the idle bound, in virtual time', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const model = scriptedModel(['a b c'], { delayMs: 3, timeout: { idleMs: 2 } });
        expectObservable(model.stream(ask)).toBe('---a-#', { a: 'a ' }, idleTimeout(2));
      });
    });

    it('should fail at the first-token bound before any word, as a failed request', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const model = scriptedModel(['a b c'], { delayMs: 5, timeout: 3 });
        const expected = new ProviderError({ provider: 'scripted', type: 'timeout', code: 'upstream_timeout', during: 'request', detail: 'no answer within 3 ms of the request (first-token timeout)' });
        expectObservable(model.stream(ask)).toBe('---#', undefined, expected);
      });
    });

    it('should let words within the bounds through, however long the answer', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const model = scriptedModel(['a b c'], { delayMs: 3, timeout: 4 });
        expectObservable(model.stream(ask)).toBe('---a--b--(c|)', { a: 'a ', b: 'b ', c: 'c' });
      });
    });

    it("should take a call's timeout over the model's, wait by wait", () => {
      createTestScheduler().run(({ expectObservable }) => {
        const model = scriptedModel(['a b c'], { delayMs: 3, timeout: { firstTokenMs: 1, idleMs: 10 } });
        // The call lifts the first-token bound and keeps the model's idle bound; then tightens the idle bound.
        expectObservable(model.stream(ask, { timeout: { firstTokenMs: 5 } })).toBe('---a--b--(c|)', { a: 'a ', b: 'b ', c: 'c' });
        expectObservable(model.stream(ask, { timeout: { firstTokenMs: 5, idleMs: 2 } })).toBe('---a-#', { a: 'a ' }, idleTimeout(2));
      });
    });

    it('should arm no timer for an answer given at once (delayMs 0): it has no wait to bound', () => {
      jest.useFakeTimers();
      try {
        const usage = new UsageTracker();
        const seen: string[] = [];
        scriptedModel(['one two three four'], { timeout: 1_000 }).stream(ask, { usage }).pipe(take(2)).subscribe((word) => seen.push(word));
        expect(seen).toEqual(['one ', 'two ']);
        expect(jest.getTimerCount()).toBe(0);
        expect(usage.snapshot().calls).toEqual([expect.objectContaining({ completionTokens: 2, outcome: 'cancelled' })]);
      } finally {
        jest.useRealTimers();
      }
    });

    it('should record a timed-out call once, as an error', async () => {
      const usage = new UsageTracker();
      const outcome = await collect(scriptedModel(['slow answer'], { delayMs: 200, timeout: { firstTokenMs: 500, idleMs: 20 } }).stream(ask, { usage }));
      expect(outcome.items).toEqual(['slow ']);
      expect(ProviderError.isInstance(outcome.error)).toBe(true);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ outcome: 'error', completionTokens: 1 })]);
    });

    it('should leave no timer behind, ended or unsubscribed', () => {
      jest.useFakeTimers();
      try {
        const seen: string[] = [];
        const subscription = scriptedModel(['one two three four'], { delayMs: 10, timeout: 15 }).stream(ask).subscribe((word) => seen.push(word));
        jest.advanceTimersByTime(25);
        expect(seen).toEqual(['one ', 'two ']);
        // The pacing and the one timer of the idle bound (not one per word).
        expect(jest.getTimerCount()).toBe(2);
        subscription.unsubscribe();
        expect(jest.getTimerCount()).toBe(0);
        scriptedModel(['one two'], { delayMs: 10, timeout: 15 }).stream(ask).subscribe();
        jest.advanceTimersByTime(20);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  it("should reject a call's bad timeout when the call is made", () => {
    const call = () => scriptedModel(['x']).stream(ask, { timeout: { firstTokenMs: Number.POSITIVE_INFINITY } });
    expect(call).toThrow(InvalidOptionError);
    expect(call).toThrow('scriptedModel.stream: timeout.firstTokenMs must be a positive, finite number of milliseconds, got Infinity');
  });

  it('should be exported from the test kit too', () => {
    expect(fromTestKit).toBe(scriptedModel);
  });

  it.each([
    [[], {}, 'scriptedModel: responses must be a non-empty array or a function, got an array'],
    [[42], {}, 'scriptedModel: responses[0] must be a string or an Error, got 42'],
    [['x'], { delayMs: -1 }, 'scriptedModel: delayMs must be a finite number of milliseconds, at least 0, got -1'],
    [['x'], { delay_ms: 5 }, "scriptedModel: unknown option 'delay_ms' (did you mean 'delayMs'?)"],
    [['x'], { timeout: 0 }, 'scriptedModel: timeout must be a positive, finite number of milliseconds, got 0'],
    [['x'], { timeout: { idleMs: -1 } }, 'scriptedModel: timeout.idleMs must be a positive, finite number of milliseconds, got -1'],
  ])('should reject responses %j with options %j', (responses, options, message) => {
    expect(() => scriptedModel(responses as never, options as never)).toThrow(InvalidOptionError);
    expect(() => scriptedModel(responses as never, options as never)).toThrow(message);
  });
});
