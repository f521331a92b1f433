import { TestScheduler } from 'rxjs/testing';

/** Compares what a marble test produced with what it expected; throws when they differ. */
export type DeepEqualAssertion = (actual: unknown, expected: unknown) => void;

/**
 * A `TestScheduler` whose assertions compare errors by `name` and `message`.
 *
 * Jest's `toEqual` compares errors by message only, so a `RailViolationError` and a plain `Error` with the same
 * message would pass for each other; here they do not. Uses the test runner's global `expect(...).toEqual` when
 * there is one (Jest, Vitest, Jasmine), otherwise a structural comparison of its own. Make a new scheduler per
 * test: virtual time carries over otherwise.
 *
 * ## Example
 * ```ts
 * import { guard, keywordRail, RailViolationError } from 'rxguardrails';
 * import { createTestScheduler } from 'rxguardrails/testing';
 *
 * it('should stop at the forbidden word', () => {
 *   createTestScheduler().run(({ cold, expectObservable }) => {
 *     const source = cold('-a-b-|', { a: 'top ', b: 'secret' });
 *     const expected = '   -a-(b#)';
 *     expectObservable(source.pipe(guard([keywordRail(['secret'])], { chunkSize: 2, contextSize: 1 })))
 *       .toBe(expected, { a: 'top ', b: 'secret' }, new RailViolationError({ ... }));
 *   });
 * });
 * ```
 *
 * @param assertDeepEqual Your own assertion, if the global `expect` is not the one to use.
 */
export function createTestScheduler(assertDeepEqual: DeepEqualAssertion = defaultAssertion): TestScheduler {
  return new TestScheduler((actual, expected) => assertDeepEqual(comparable(actual), comparable(expected)));
}

/** Replaces every Error inside arrays and plain objects with `{ name, message }`. */
function comparable(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map(comparable);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, comparable(entry)]));
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

interface Expectation {
  toEqual(expected: unknown): void;
}

function defaultAssertion(actual: unknown, expected: unknown): void {
  const expect = (globalThis as { expect?: (value: unknown) => Expectation }).expect;
  if (typeof expect === 'function') {
    expect(actual).toEqual(expected);
    return;
  }
  if (!deepEqual(actual, expected)) {
    throw new Error(`Expected\n${JSON.stringify(expected, null, 2)}\nbut got\n${JSON.stringify(actual, null, 2)}`);
  }
}

/** Structural equality in the sense of toEqual: properties holding undefined count as absent. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = (value: object) => Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  const keysOfA = keys(a);
  const keysOfB = keys(b);
  return (
    keysOfA.length === keysOfB.length &&
    keysOfA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}
