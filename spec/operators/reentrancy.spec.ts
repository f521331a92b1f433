// RxJS's re-entrancy case (its issue #2062): a consumer that pushes the next item into the source from inside its
// own `next` (an echo, a store dispatch, a Subject fed by its subscriber), and may complete it from there too. Every
// operator must give such a consumer exactly what it gives one fed from outside: the same items, windows and
// verdicts, in the same order, and the same ending. Before the fix, guard's streamFirst mode released "pass word"
// (its rail saw "wordpass "), and blockOnViolation fed windows without checkRail in between (whose checker queues
// windows that come in re-entrantly) released held items twice.
import fc from 'fast-check';
import { map, type OperatorFunction, Subject } from 'rxjs';
import { blockOnViolation, bufferChunks, checkRail, type ChunkBatch, type CheckedBatch, defineRail, guard, keywordRail, RailViolationError } from 'rxguardrails';

const PHRASE = keywordRail(['pass word']);

interface Fed<T> {
  readonly items: T[];
  readonly ending: string;
}

/**
 * Feeds `tokens` through `operator` into one consumer. `reentrant`: the consumer pushes the next token from inside
 * its `next` whenever it receives something, and completes the source from there once the tokens are out; the rest is
 * fed from outside, as when not re-entrant.
 */
function feed<T>(tokens: readonly string[], operator: OperatorFunction<string, T>, reentrant: boolean): Fed<T> {
  const source = new Subject<string>();
  const items: T[] = [];
  let ending = 'none';
  let fed = 0;
  source.pipe(operator).subscribe({
    next: (item) => {
      items.push(item);
      if (!reentrant) return;
      if (fed < tokens.length) source.next(tokens[fed++]!);
      else source.complete();
    },
    error: (error: unknown) => (ending = RailViolationError.isInstance(error) ? `violation at window ${error.info.batchIndex}` : `error ${String(error)}`),
    complete: () => (ending = 'complete'),
  });
  while (fed < tokens.length) source.next(tokens[fed++]!);
  source.complete();
  return { items, ending };
}

const tokensArbitrary = fc.array(fc.constantFrom('pass ', 'word ', 'pass', ' word', 'x ', 'word'), { minLength: 1, maxLength: 24 });
const sizeArbitrary = fc.integer({ min: 1, max: 6 }).chain((chunkSize) => fc.record({ chunkSize: fc.constant(chunkSize), contextSize: fc.integer({ min: 0, max: chunkSize - 1 }) }));

const batchView = (batch: ChunkBatch) => ({ index: batch.index, text: batch.text, chunks: batch.chunks, final: batch.final });
const checkedView = (batch: CheckedBatch) => ({ ...batchView(batch), blocked: batch.blocked?.reason });

describe('re-entrant consumers (RxJS #2062): the same as fed from outside', () => {
  it('guard, streamFirst: the issue case is a violation, not a released phrase', () => {
    const tokens = ['pass ', 'word ', 'x '];
    const outside = feed(tokens, guard([PHRASE], { chunkSize: 2, contextSize: 1, streamFirst: true }), false);
    const inside = feed(tokens, guard([PHRASE], { chunkSize: 2, contextSize: 1, streamFirst: true }), true);
    expect(outside.ending).toBe('violation at window 0');
    expect(inside).toEqual(outside);
  });

  it.each([true, false])('guard (streamFirst: %s) (property)', (streamFirst) => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const operator = () => guard([PHRASE], { ...size, streamFirst });
        expect(feed(tokens, operator(), true)).toEqual(feed(tokens, operator(), false));
      }),
      { numRuns: 400 },
    );
  });

  it.each(['chunk', 'replace'] as const)('guard with mode %s (property)', (mode) => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, fc.boolean(), (tokens, size, streamFirst) => {
        const operator = () => guard([PHRASE], { ...size, streamFirst, mode });
        expect(feed(tokens, operator(), true)).toEqual(feed(tokens, operator(), false));
      }),
      { numRuns: 200 },
    );
  });

  it('guard with a rail rewriting "pass word" (streamFirst: false): the same rewritten items (property)', () => {
    const masking = defineRail('mask', (text) => {
      const index = text.indexOf('pass word');
      return index === -1 ? true : { allowed: true, rewrites: [{ index, length: 9, text: '***' }] };
    });
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const operator = () => guard([masking], { ...size, streamFirst: false });
        const outside = feed(tokens, operator(), false);
        expect(outside.ending).toBe('complete');
        expect(feed(tokens, operator(), true)).toEqual(outside);
      }),
      { numRuns: 400 },
    );
  });

  it('bufferChunks (property)', () => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const run = (reentrant: boolean) => {
          const fed = feed(tokens, bufferChunks(size), reentrant);
          return { items: fed.items.map(batchView), ending: fed.ending };
        };
        expect(run(true)).toEqual(run(false));
      }),
      { numRuns: 400 },
    );
  });

  it('bufferChunks + checkRail (property)', () => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const run = (reentrant: boolean) => {
          const source = (tokens$: Parameters<OperatorFunction<string, CheckedBatch>>[0]) => tokens$.pipe(bufferChunks(size), checkRail([PHRASE]));
          const fed = feed(tokens, source, reentrant);
          return { items: fed.items.map(checkedView), ending: fed.ending };
        };
        expect(run(true)).toEqual(run(false));
      }),
      { numRuns: 400 },
    );
  });

  it('blockOnViolation fed windows directly (no checker in between): each item once, in order (property)', () => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const passed = map((batch: ChunkBatch): CheckedBatch => ({ ...batch, verdicts: [], blocked: undefined }));
        const operator = (tokens$: Parameters<OperatorFunction<string, string>>[0]) => tokens$.pipe(bufferChunks(size), passed, blockOnViolation());
        const outside = feed(tokens, operator, false);
        expect(outside.items.join('')).toBe(tokens.join(''));
        expect(feed(tokens, operator, true)).toEqual(outside);
      }),
      { numRuns: 400 },
    );
  });

  it('bufferChunks + checkRail + blockOnViolation: each item once, in order (property)', () => {
    fc.assert(
      fc.property(tokensArbitrary, sizeArbitrary, (tokens, size) => {
        const operator = (tokens$: Parameters<OperatorFunction<string, string>>[0]) => tokens$.pipe(bufferChunks(size), checkRail([PHRASE]), blockOnViolation());
        expect(feed(tokens, operator, true)).toEqual(feed(tokens, operator, false));
      }),
      { numRuns: 400 },
    );
  });
});
