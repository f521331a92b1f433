// Every failure of a rail is an internal_error verdict, whatever the rail answers or throws, and whether it answers at
// once or later: then the violation mode (error, chunk, replace) and onError (block, allow) apply as for any failure.
// Before, a synchronous rail answering a BigInt, or an object whose `allowed` getter (or a Proxy) throws, escaped as
// the stream's raw error and ignored the mode.
import { lastValueFrom, of, toArray } from 'rxjs';
import { guard, type OutputRail, RailViolationError } from 'rxguardrails';
import { collectNow } from '../support/collect.js';

const throwing = (what: string) => () => {
  throw new Error(what);
};
/** Answers that blow up when looked at, and one thrown value that does. */
const EXOTIC: readonly [string, () => unknown, string | RegExp][] = [
  ['a BigInt', () => 10n, "it answered bigint 10n; a rail must answer true/false or { allowed: boolean }"],
  ['a Symbol', () => Symbol('yes'), 'it answered symbol Symbol(yes); a rail must answer true/false or { allowed: boolean }'],
  ['a function', () => () => true, 'it answered a function; a rail must answer true/false or { allowed: boolean }'],
  ['an object whose allowed getter throws', () => ({ get allowed(): boolean { throw new Error('getter broke'); } }), 'getter broke'],
  ['an object whose reason getter throws', () => ({ allowed: false, get reason(): string { throw new Error('reason broke'); } }), 'reason broke'],
  ['a Proxy whose every trap throws', () => new Proxy({}, { get: throwing('proxy get'), has: throwing('proxy has'), getPrototypeOf: throwing('proxy proto') }), /^proxy (get|has|proto)$/],
];

const matches = (reason: string | RegExp): unknown => (typeof reason === 'string' ? reason : expect.stringMatching(reason));

const railAnswering = (answer: () => unknown, when: 'now' | 'promise' | 'observable'): OutputRail => ({
  name: 'odd',
  check: () => {
    const value = answer();
    return (when === 'now' ? value : when === 'promise' ? Promise.resolve(value) : of(value)) as never;
  },
});

const tokens = ['one ', 'two ', 'three '];
const small = { chunkSize: 2, contextSize: 1 };

describe('rails that answer something odd or throw something odd', () => {
  describe.each(EXOTIC)('%s', (_name, answer, reason) => {
    it('answered at once: an internal_error verdict, as a RailViolationError', () => {
      const outcome = collectNow(of(...tokens).pipe(guard([railAnswering(answer, 'now')], { ...small, streamFirst: false })));
      expect(outcome.items).toEqual([]);
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as RailViolationError).info.verdict).toEqual(expect.objectContaining({ rail: 'odd', allowed: false, kind: 'internal_error', reason: matches(reason) }));
    });

    it.each(['chunk', 'replace'] as const)('answered at once, in mode %s: the mode applies', (mode) => {
      const outcome = collectNow(of(...tokens).pipe(guard([railAnswering(answer, 'now')], { ...small, streamFirst: false, mode, ...(mode === 'replace' ? { replacement: 'Sorry.' } : {}) })));
      expect(outcome.completed).toBe(true);
      expect(outcome.items).toHaveLength(1);
      if (mode === 'replace') expect(outcome.items).toEqual(['Sorry.']);
      else expect(JSON.parse(outcome.items[0]!)).toEqual({ error: expect.objectContaining({ type: 'internal_error', code: 'rail_execution_failure', param: 'odd' }) });
    });

    it('answered at once, with onError allow: passes', () => {
      const outcome = collectNow(of(...tokens).pipe(guard([railAnswering(answer, 'now')], { ...small, onError: 'allow' })));
      expect(outcome).toEqual({ items: tokens, completed: true });
    });

    it.each(['promise', 'observable'] as const)('answered later (%s): the same verdict', async (when) => {
      const failure = await lastValueFrom(of(...tokens).pipe(guard([railAnswering(answer, when)], { ...small, streamFirst: false }), toArray())).catch((error: unknown) => error);
      expect((failure as RailViolationError).info.verdict).toEqual(expect.objectContaining({ kind: 'internal_error', reason: matches(reason) }));
    });
  });

  it.each([
    ['a Proxy', () => new Proxy({}, { get: throwing('proxy get') }), 'a thrown value that cannot be described'],
    ['an object without a prototype', () => Object.create(null) as unknown, 'a thrown value that cannot be described'],
    ['a string', () => 'out of tokens', 'out of tokens'],
  ])('a rail throwing %s: an internal_error verdict with what can be said of it', (_name, thrown, reason) => {
    const rail: OutputRail = {
      name: 'odd',
      check: () => {
        throw thrown();
      },
    };
    const outcome = collectNow(of(...tokens).pipe(guard([rail], small)));
    expect((outcome.error as RailViolationError).info.verdict).toEqual(expect.objectContaining({ kind: 'internal_error', reason }));
  });
});
