import { catchError, EMPTY, mergeMap, of } from 'rxjs';
import { fallback, guard, hedge, InvalidOptionError, keywordRail, mergeLabelled, ProviderError, RailViolationError } from 'rxguardrails';
import { createTestScheduler } from 'rxguardrails/testing';

const overloaded = new ProviderError({ provider: 'openai', status: 529, type: 'overloaded_error', during: 'request', detail: 'Overloaded' });
const dropped = new ProviderError({ provider: 'anthropic', type: 'connection_error', during: 'stream', detail: 'the connection dropped' });

describe('fallback', () => {
  it('should move to the next source when one fails before emitting, unsubscribing it first', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('---#', undefined, overloaded);
      const b = cold('   --x-y-|');
      const aSubs = '  ^--!';
      const bSubs = '  ---^-----!';
      const expected = '-----x-y-|';
      expectObservable(fallback([a, b])).toBe(expected);
      expectSubscriptions(a.subscriptions).toBe(aSubs);
      expectSubscriptions(b.subscriptions).toBe(bSubs);
    });
  });

  it('should never splice two attempts: a failure after the first item is passed on', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('-x-#', undefined, dropped);
      const b = cold('-y|');
      expectObservable(fallback([a, b])).toBe('-x-#', undefined, dropped);
      expectSubscriptions(b.subscriptions).toBe([]);
    });
  });

  it('should pass on the last failure when every source fails', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const a = cold('-#', undefined, overloaded);
      const b = cold(' -#', undefined, dropped);
      expectObservable(fallback([a, b])).toBe('--#', undefined, dropped);
    });
  });

  it('should fall back on a guarded answer blocked before anything was released', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const guarded = guard([keywordRail(['secret'])], { chunkSize: 2, contextSize: 1, streamFirst: false });
      const a = cold('-a-b-c|', { a: 'the ', b: 'secret ', c: 'is' }).pipe(guarded);
      const b = cold('     -x-y|', { x: 'I cannot ', y: 'say.' }).pipe(guarded);
      // a's first window "the secret " is blocked at frame 3, before anything was released; b starts then. Its
      // window [x y] passes at 6, releasing x; y follows when b completes at 7.
      const expected = '   ------x(y|)';
      expectObservable(fallback([a, b])).toBe(expected, { x: 'I cannot ', y: 'say.' });
    });
  });

  it('should follow shouldFallback, and stop when it says no', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const blocked = new RailViolationError({ rail: 'keyword', batchIndex: 0, verdict: { rail: 'keyword', allowed: false, kind: 'violation' } });
      const a = cold('-#', undefined, blocked);
      const b = cold('-y|');
      expectObservable(fallback([a, b], { shouldFallback: (error) => ProviderError.isInstance(error) })).toBe('-#', undefined, blocked);
      expectSubscriptions(b.subscriptions).toBe([]);
    });
  });

  it('should unsubscribe the current attempt on early unsubscription', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('-#', undefined, overloaded);
      const b = cold(' ----x|');
      const unsub = '  ---!';
      expectObservable(fallback([a, b]), unsub).toBe('---');
      expectSubscriptions(b.subscriptions).toBe(' -^-!');
    });
  });

  it('should not break unsubscription chains', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('--x-y-|');
      const unsub = '  ---!';
      const result = fallback([a.pipe(mergeMap((value) => of(value)))]).pipe(mergeMap((value) => of(value)));
      expectObservable(result, unsub).toBe('--x');
      expectSubscriptions(a.subscriptions).toBe('^--!');
    });
  });

  it('should reject an empty list', () => {
    expect(() => fallback([])).toThrow(InvalidOptionError);
    expect(() => fallback([])).toThrow('fallback: sources must be a non-empty array of Observables, got an array');
  });
});

describe('hedge', () => {
  it('should keep a primary that emits before the deadline, never starting the backup', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('--a-b|');
      const backup = cold('x|');
      expectObservable(hedge(primary, backup, { deadlineMs: 5 })).toBe('--a-b|');
      expectSubscriptions(backup.subscriptions).toBe([]);
    });
  });

  it('should start the backup at the deadline and keep it when it emits first, cancelling the primary', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('------a-b|');
      const backup = cold('    -x-y-|');
      const primarySubs = ' ^----!';
      const backupSubs = '  ----^----!';
      const expected = '    -----x-y-|';
      expectObservable(hedge(primary, backup, { deadlineMs: 4 })).toBe(expected);
      expectSubscriptions(primary.subscriptions).toBe(primarySubs);
      expectSubscriptions(backup.subscriptions).toBe(backupSubs);
    });
  });

  it('should keep the primary when it emits first after the backup started', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('-----a-b|');
      const backup = cold('    ----x|');
      expectObservable(hedge(primary, backup, { deadlineMs: 3 })).toBe('-----a-b|');
      expectSubscriptions(backup.subscriptions).toBe('---^-!');
    });
  });

  it('should start the backup at once when the primary fails before the deadline', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('-#', undefined, overloaded);
      const backup = cold(' -x|');
      expectObservable(hedge(primary, backup, { deadlineMs: 10 })).toBe('--x|');
      expectSubscriptions(backup.subscriptions).toBe('-^-!');
    });
  });

  it('should fail only when both sources failed, with the later failure', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const primary = cold('-----#', undefined, overloaded);
      const backup = cold('  -#', undefined, dropped);
      expectObservable(hedge(primary, backup, { deadlineMs: 2 })).toBe('-----#', undefined, overloaded);
    });
  });

  it("should pass on the winner's failure", () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const primary = cold('-a-#', undefined, dropped);
      const backup = cold('x|');
      expectObservable(hedge(primary, backup, { deadlineMs: 5 })).toBe('-a-#', undefined, dropped);
    });
  });

  it('should let a source that completes empty win with an empty answer', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('-----a|');
      const backup = cold('  -|');
      expectObservable(hedge(primary, backup, { deadlineMs: 2 })).toBe('---|');
      expectSubscriptions(primary.subscriptions).toBe('^--!');
    });
  });

  it('should unsubscribe both sources on early unsubscription', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const primary = cold('--------a|');
      const backup = cold('  ------x|');
      const unsub = '       -----!';
      expectObservable(hedge(primary, backup, { deadlineMs: 2 }), unsub).toBe('-----');
      expectSubscriptions(primary.subscriptions).toBe('^----!');
      expectSubscriptions(backup.subscriptions).toBe('--^--!');
    });
  });

  it.each([
    ['a missing deadline', () => hedge(EMPTY, EMPTY, {} as never), 'hedge: deadlineMs must be a positive, finite number of milliseconds, got undefined'],
    ['a deadline of 0', () => hedge(EMPTY, EMPTY, { deadlineMs: 0 }), 'hedge: deadlineMs must be a positive, finite number of milliseconds, got 0'],
    ['a backup that is not an Observable', () => hedge(EMPTY, [] as never, { deadlineMs: 5 }), 'hedge: backup must be an Observable, got an array'],
  ])('should throw InvalidOptionError for %s', (_, create, message) => {
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});

describe('mergeLabelled', () => {
  it('should label every token with its source, in arrival order, and complete when all have', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const openai = cold('-a---b-|');
      const claude = cold('--x-y---|');
      expectObservable(mergeLabelled({ openai, claude })).toBe('-AX-YB--|', {
        A: { source: 'openai', text: 'a' },
        B: { source: 'openai', text: 'b' },
        X: { source: 'claude', text: 'x' },
        Y: { source: 'claude', text: 'y' },
      });
    });
  });

  it('should fail with the first failure and unsubscribe the others', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const openai = cold('-a-#', undefined, overloaded);
      const claude = cold('--x---y|');
      expectObservable(mergeLabelled({ openai, claude })).toBe('-AX#', { A: { source: 'openai', text: 'a' }, X: { source: 'claude', text: 'x' } }, overloaded);
      expectSubscriptions(claude.subscriptions).toBe('^--!');
    });
  });

  it('should keep going with the others when a source catches its own failure', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const openai = cold('-a-#', undefined, overloaded).pipe(catchError(() => EMPTY));
      const claude = cold('--x---y|');
      expectObservable(mergeLabelled({ openai, claude })).toBe('-AX---Y|', {
        A: { source: 'openai', text: 'a' },
        X: { source: 'claude', text: 'x' },
        Y: { source: 'claude', text: 'y' },
      });
    });
  });

  it('should reject sources that are not Observables', () => {
    const create = () => mergeLabelled({ a: 'text' as never });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow('mergeLabelled: sources.a must be an Observable, got "text"');
  });
});
