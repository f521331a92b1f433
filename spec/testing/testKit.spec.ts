import { firstValueFrom, lastValueFrom, map, type Observable, toArray } from 'rxjs';
import { type RailContext, type RailResult, RailViolationError, type RailVerdict } from 'rxguardrails';
import { createTestScheduler, fakeRail, tokenSource } from 'rxguardrails/testing';

const verdict: RailVerdict = { rail: 'r', allowed: false, kind: 'violation' };
const context = () => {
  const controller = new AbortController();
  return { context: { messages: [], signal: controller.signal } as unknown as RailContext, controller };
};

describe('rxguardrails/testing', () => {
  describe('createTestScheduler', () => {
    it('should fail a marble test whose error has the right message but the wrong class', () => {
      const scheduler = createTestScheduler();
      const error = new RailViolationError({ rail: 'r', batchIndex: 0, verdict });
      expect(() =>
        scheduler.run(({ cold, expectObservable }) => {
          expectObservable(cold('#', undefined, error)).toBe('#', undefined, new Error(error.message));
        }),
      ).toThrow();
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

    it('should compare structurally without a global expect', () => {
      const globals = globalThis as { expect?: unknown };
      const jestExpect = expect;
      delete globals.expect;
      let failure: unknown;
      try {
        createTestScheduler().run(({ cold, expectObservable }) => {
          expectObservable(cold('-a|', { a: { text: 'x', extra: undefined } })).toBe('-a|', { a: { text: 'x' } });
        });
        try {
          createTestScheduler().run(({ cold, expectObservable }) => {
            expectObservable(cold('-a|')).toBe('-b|');
          });
        } catch (error) {
          failure = error;
        }
      } finally {
        globals.expect = jestExpect;
      }
      jestExpect(String(failure)).toContain('but got');
      jestExpect(String(failure)).toContain('"value": "a"');
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
      expect(() => tokenSource('-a|', undefined as never)).toThrow('tokenSource: a marble diagram needs { scheduler }');
    });
  });

  describe('fakeRail', () => {
    it('should allow everything by default and record each call', () => {
      const rail = fakeRail();
      const { context: railContext } = context();
      expect(rail.name).toBe('fake');
      expect(rail.check('one', railContext)).toBe(true);
      expect(rail.check('two', railContext)).toBe(true);
      expect(rail.texts).toEqual(['one', 'two']);
      expect(rail.calls[1]).toEqual({ text: 'two', context: railContext });
    });

    it('should answer from a list, one answer per call, and fail past its end', () => {
      const rail = fakeRail({ name: 'listed', answer: [true, { allowed: false, reason: 'no' }] });
      const { context: railContext } = context();
      expect(rail.check('a', railContext)).toBe(true);
      expect(rail.check('b', railContext)).toEqual({ allowed: false, reason: 'no' });
      expect(() => rail.check('c', railContext)).toThrow("fakeRail 'listed' has no answer for call 3 (2 given)");
    });

    it('should answer from a function of the text, the context and the call number', () => {
      const rail = fakeRail({ answer: (text, _, call) => text.length > call });
      const { context: railContext } = context();
      expect([rail.check('ab', railContext), rail.check('ab', railContext), rail.check('ab', railContext)]).toEqual([true, true, false]);
    });

    it('should throw, reject or error with an Error answer, per respond mode', async () => {
      const failure = new Error('judge down');
      const { context: railContext } = context();
      expect(() => fakeRail({ answer: failure }).check('x', railContext)).toThrow(failure);
      await expect(fakeRail({ answer: failure, respond: 'promise' }).check('x', railContext)).rejects.toBe(failure);
      const answer$ = fakeRail({ answer: failure, respond: 'observable' }).check('x', railContext) as Observable<RailResult>;
      await expect(firstValueFrom(answer$)).rejects.toBe(failure);
    });

    it('should answer by Promise after delayMs, and reject when the check is aborted first', async () => {
      const rail = fakeRail({ respond: 'promise', delayMs: 5, answer: false });
      const first = context();
      await expect(rail.check('x', first.context) as Promise<RailResult>).resolves.toBe(false);
      const second = context();
      const pending = rail.check('y', second.context) as Promise<RailResult>;
      second.controller.abort(new Error('cancelled'));
      await expect(pending).rejects.toThrow('cancelled');
    });

    it('should answer by Observable in virtual time', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const rail = fakeRail({ respond: 'observable', delayMs: 4, answer: { allowed: true } });
        expectObservable(rail.check('x', context().context) as Observable<RailResult>).toBe('----(a|)', { a: { allowed: true } });
      });
    });
  });
});
