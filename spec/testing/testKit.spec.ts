import { firstValueFrom, lastValueFrom, map, type Observable, toArray } from 'rxjs';
import { type RailContext, type RailResult, RailViolationError, type RailVerdict } from 'rxguardrails';
import { createTestScheduler, fakeRail, tokenSource } from 'rxguardrails/testing';

const verdict: RailVerdict = { rail: 'r', allowed: false, kind: 'violation' };
const context = () => {
  const controller = new AbortController();
  return { context: { messages: [], signal: controller.signal } as unknown as RailContext, controller };
};

/** What a failed jest assertion carries besides its text: the two values it compared. */
interface MatcherResult {
  readonly name: string;
  readonly pass: boolean;
  readonly actual: unknown;
  readonly expected: unknown;
}

/** Runs `body` with no global `expect`, as under a test runner without one, and gives back what it threw. */
function thrownWithoutGlobalExpect(body: () => void): unknown {
  const globals = globalThis as { expect?: unknown };
  const jestExpect = globals.expect;
  delete globals.expect;
  try {
    body();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    globals.expect = jestExpect;
  }
}

describe('rxguardrails/testing', () => {
  describe('createTestScheduler', () => {
    it('should fail a marble test whose error has the right message but the wrong class', () => {
      const scheduler = createTestScheduler();
      const error = new RailViolationError({ rail: 'r', batchIndex: 0, verdict });
      let failure: unknown;
      try {
        scheduler.run(({ cold, expectObservable }) => {
          expectObservable(cold('#', undefined, error)).toBe('#', undefined, new Error(error.message));
        });
      } catch (caught) {
        failure = caught;
      }
      // jest's toEqual failed, and it failed on the name: the messages are the same.
      const notification = (name: string) => [{ frame: 0, notification: { kind: 'E', error: { name, message: 'Blocked by r rails.' }, value: undefined } }];
      expect((failure as { matcherResult?: MatcherResult }).matcherResult).toEqual(
        expect.objectContaining({ name: 'toEqual', pass: false, actual: notification('RailViolationError'), expected: notification('Error') }),
      );
    });

    it('should pass a marble test whose error has the same name and message', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const error = new RailViolationError({ rail: 'r', batchIndex: 0, verdict });
        expectObservable(cold('-#', undefined, error)).toBe('-#', undefined, new RailViolationError({ rail: 'r', batchIndex: 3, verdict }));
      });
    });

    it('should hand errors to a custom assertion as { name, message }', () => {
      const seen: unknown[] = [];
      const scheduler = createTestScheduler((actual, expected) => seen.push(actual, expected));
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('#', undefined, new TypeError('bad'))).toBe('#', undefined, new TypeError('bad'));
      });
      expect(seen[0]).toEqual([{ frame: 0, notification: { kind: 'E', error: { name: 'TypeError', message: 'bad' }, value: undefined } }]);
    });

    it('should compare structurally without a global expect, properties holding undefined counting as absent', () => {
      const failure = thrownWithoutGlobalExpect(() =>
        createTestScheduler().run(({ cold, expectObservable }) => {
          expectObservable(cold('-a|', { a: { text: 'x', extra: undefined } })).toBe('-a|', { a: { text: 'x' } });
        }),
      );
      expect(failure).toBeUndefined();
    });

    it('should fail without a global expect with an Error showing the expected and the actual notifications', () => {
      const failure = thrownWithoutGlobalExpect(() =>
        createTestScheduler().run(({ cold, expectObservable }) => {
          expectObservable(cold('-a|')).toBe('-b|');
        }),
      );
      expect(failure).toBeInstanceOf(Error);
      const message = (failure as Error).message;
      expect(message).toMatch(/^Expected\n[\s\S]*"value": "b"[\s\S]*\nbut got\n[\s\S]*"value": "a"/);
    });
  });

  describe('tokenSource', () => {
    it('should emit a list of tokens synchronously', async () => {
      expect(await lastValueFrom(tokenSource(['Hel', 'lo']).pipe(toArray()))).toEqual(['Hel', 'lo']);
    });

    it('should space tokens by intervalMs, in virtual time inside run()', () => {
      createTestScheduler().run(({ expectObservable }) => {
        expectObservable(tokenSource(['a', 'b', 'c'], { intervalMs: 3 })).toBe('---a--b--(c|)');
      });
    });

    it('should build a cold token stream from a marble diagram', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable, expectSubscriptions }) => {
        const tokens$ = tokenSource('-a-b-|', { scheduler, values: { a: 'Hel', b: 'lo' } });
        expectObservable(tokens$.pipe(map((token) => token.toUpperCase()))).toBe('-a-b-|', { a: 'HEL', b: 'LO' });
        expectSubscriptions((tokens$ as unknown as { subscriptions: never }).subscriptions).toBe('^----!');
      });
    });

    it('should ask for the scheduler a marble needs', () => {
      const create = () => tokenSource('-a|', undefined as never);
      expect(create).toThrow(TypeError);
      expect(create).toThrow('tokenSource: a marble diagram needs { scheduler }');
    });
  });

  describe('fakeRail', () => {
    afterEach(() => jest.useRealTimers());

    it("should be named 'fake' and allow everything by default", () => {
      const rail = fakeRail();
      const { context: railContext } = context();
      expect(rail.name).toBe('fake');
      expect(rail.check('one', railContext)).toBe(true);
      expect(rail.check('two', railContext)).toBe(true);
    });

    it('should record each call, its text and its context', () => {
      const rail = fakeRail();
      const { context: railContext } = context();
      rail.check('one', railContext);
      rail.check('two', railContext);
      expect(rail.texts).toEqual(['one', 'two']);
      expect(rail.calls[1]).toEqual({ text: 'two', context: railContext });
    });

    it('should answer from a list, one answer per call', () => {
      const rail = fakeRail({ name: 'listed', answer: [true, { allowed: false, reason: 'no' }] });
      const { context: railContext } = context();
      expect(rail.check('a', railContext)).toBe(true);
      expect(rail.check('b', railContext)).toEqual({ allowed: false, reason: 'no' });
    });

    it('should fail a call past the end of its list of answers', () => {
      const rail = fakeRail({ name: 'listed', answer: [true, true] });
      const { context: railContext } = context();
      rail.check('a', railContext);
      rail.check('b', railContext);
      expect(() => rail.check('c', railContext)).toThrow("fakeRail 'listed' has no answer for call 3 (2 given)");
    });

    it('should answer from a function of the text, the context and the call number', () => {
      const rail = fakeRail({ answer: (text, _, call) => text.length > call });
      const { context: railContext } = context();
      expect([rail.check('ab', railContext), rail.check('ab', railContext), rail.check('ab', railContext)]).toEqual([true, true, false]);
    });

    it("should throw an Error answer with respond: 'sync'", () => {
      const failure = new Error('judge down');
      expect(() => fakeRail({ answer: failure }).check('x', context().context)).toThrow(failure);
    });

    it("should reject with an Error answer with respond: 'promise'", async () => {
      const failure = new Error('judge down');
      await expect(fakeRail({ answer: failure, respond: 'promise' }).check('x', context().context)).rejects.toBe(failure);
    });

    it("should error with an Error answer with respond: 'observable'", async () => {
      const failure = new Error('judge down');
      const answer$ = fakeRail({ answer: failure, respond: 'observable' }).check('x', context().context) as Observable<RailResult>;
      await expect(firstValueFrom(answer$)).rejects.toBe(failure);
    });

    it('should answer by Promise after delayMs, not before', async () => {
      jest.useFakeTimers();
      const rail = fakeRail({ respond: 'promise', delayMs: 5, answer: false });
      let answer: RailResult | undefined;
      void (rail.check('x', context().context) as Promise<RailResult>).then((result) => (answer = result));
      await jest.advanceTimersByTimeAsync(4);
      expect(answer).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(answer).toBe(false);
    });

    it('should reject with the reason when the check is aborted before it answered', async () => {
      const rail = fakeRail({ respond: 'promise', delayMs: 5, answer: false });
      const { context: railContext, controller } = context();
      const pending = rail.check('y', railContext) as Promise<RailResult>;
      const reason = new Error('cancelled');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });

    it('should answer by Observable in virtual time', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const rail = fakeRail({ respond: 'observable', delayMs: 4, answer: { allowed: true } });
        expectObservable(rail.check('x', context().context) as Observable<RailResult>).toBe('----(a|)', { a: { allowed: true } });
      });
    });
  });
});
