// Rewrites on the release path (RailDecision.rewrites): the release schedule as marbles, and the properties that
// matter, on random tokenizations and window sizes: no part of a rewritten phrase of at most contextSize + 1 items
// is ever released, the released text is the whole answer rewritten, and every item goes out once, in order.
import fc from 'fast-check';
import { concat, from, Observable, take, throwError } from 'rxjs';
import {
  blockOnViolation,
  bufferChunks,
  checkRail,
  defineRail,
  guard,
  type GuardOptions,
  keywordRail,
  type OutputRail,
  RailViolationError,
  type RailResult,
  type RailRewrite,
} from 'rxguardrails';
import { createTestScheduler } from 'rxguardrails/testing';
import { collect, collectNow } from '../support/collect.js';
import { releasedItems, tokenize } from '../support/rewriteModel.js';
import { growingSizeArbitrary } from '../support/windowModel.js';

/** Where `phrase` occurs in `text`, each occurrence after the previous one. */
function occurrences(text: string, phrase: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(phrase); index !== -1; index = text.indexOf(phrase, index + phrase.length)) found.push(index);
  return found;
}

/** The decision of a rail rewriting every occurrence of `phrase` to `replacement`. */
function rewritten(text: string, phrase: string, replacement = '[X]'): RailResult {
  const rewrites: RailRewrite[] = occurrences(text, phrase).map((index) => ({ index, length: phrase.length, text: replacement }));
  return rewrites.length === 0 ? true : { allowed: true, rewrites };
}

/** A rail rewriting every occurrence of `phrase` to `replacement`. */
function rewriting(phrase: string, replacement = '[X]', name = 'mask'): OutputRail {
  return defineRail(name, (text) => rewritten(text, phrase, replacement));
}

describe('rewrites on the release path', () => {
  const values = { a: 'top ', b: 'sec', c: 'ret ', d: 'plan', x: '[X]', y: ' ' };
  const small: GuardOptions = { chunkSize: 2, contextSize: 1, streamFirst: false };
  const mask = rewriting('secret');

  describe('marbles, streamFirst: false', () => {
    it('should not emit and not complete when the source never emits', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<string>('-').pipe(guard([mask], small))).toBe('-');
      });
    });

    it('should complete when the source is empty', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<string>('|').pipe(guard([mask], small))).toBe('|');
      });
    });

    it('should rewrite a single item, checked as the final window', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-s|', { s: 'my secret' });
        expectObservable(source.pipe(guard([mask], small))).toBe('--(m|)', { m: 'my [X]' });
      });
    });

    it('should hold the item where a span reaching into the context starts, until no later window can extend it', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-----|', values);
        const sourceSubs = ' ^------------!';
        // [top sec] passes: "top " goes. [sec ret ] finds "secret" from b into its context c: b waits. [ret plan]
        // cannot reach back into the span: b goes as the replacement, c as what follows the span; d on completion.
        const expected = '---a---(xy)--(d|)';
        expectObservable(source.pipe(guard([mask], small))).toBe(expected, values);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should release a span that ends in what its window owns with that window', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-d-|', { a: 'my ', b: 'secret', c: ' is', d: ' out' });
        // chunkSize 3, contextSize 1, windows of 3 from the first: [my secret is] owns "my secret", so both go at once;
        // " is" waits for [ is out].
        expectObservable(source.pipe(guard([mask], { chunkSize: 3, contextSize: 1, firstChunkSize: 3, streamFirst: false }))).toBe('-----(ax)(cd|)', {
          a: 'my ',
          x: '[X]',
          c: ' is',
          d: ' out',
        });
      });
    });

    it('should rewrite on completion a span only the last window saw, in its context', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        // [x secret] is the last window (no item came after it) and "secret" is in its context.
        const source = cold('-a-b-|', { a: 'x ', b: 'secret' });
        expectObservable(source.pipe(guard([mask], small))).toBe('---a-(s|)', { a: 'x ', s: '[X]' });
      });
    });

    it('should release the items of a span as one replacement, whatever the tokens', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-d-e-|', { a: 'a ', b: 's', c: 'ecr', d: 'et', e: '!' });
        // chunkSize 5, contextSize 3, windows of 5 from the first: the one window owns "a s" only, so the span (b c d)
        // waits for completion; then b carries the replacement, and c and d, wholly inside the span, have nothing
        // left to release.
        expectObservable(source.pipe(guard([mask], { chunkSize: 5, contextSize: 3, firstChunkSize: 5, streamFirst: false }))).toBe('---------a-(xe|)', {
          a: 'a ',
          x: '[X]',
          e: '!',
        });
      });
    });

    it('should never release a held span when a later window blocks', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|', values);
        const sourceSubs = ' ^------!';
        const error = new RailViolationError({
          rail: 'keyword',
          batchIndex: 2,
          verdict: { rail: 'keyword', allowed: false, kind: 'violation', reason: 'matched keyword "plan"', match: { text: 'plan', index: 4 } },
        });
        expectObservable(source.pipe(guard([mask, keywordRail(['plan'])], small))).toBe('---a---#', values, error);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should pass a source error through, dropping what is held', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-#', values, new Error('ECONNRESET'));
        expectObservable(source.pipe(guard([mask], small))).toBe('---a---#', values, new Error('ECONNRESET'));
      });
    });

    it('should keep releasing a never-ending source', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-d-', values);
        expectObservable(source.pipe(guard([mask], small))).toBe('---a---(xy)', values);
      });
    });

    it('should unsubscribe the source on early unsubscription', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|', values);
        const sourceSubs = ' ^-----!';
        const unsub = '      ------!';
        expectObservable(source.pipe(guard([mask], small)), unsub).toBe('---a--', values);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should not break unsubscription chains when the result is unsubscribed explicitly', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|', values);
        const sourceSubs = ' ^-----!';
        const unsub = '      ------!';
        const result = new Observable<string>((subscriber) => source.pipe(guard([mask], small)).subscribe(subscriber));
        expectObservable(result, unsub).toBe('---a--', values);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should fail closed when the rail answers a malformed rewrite', () => {
      const malformed = "it answered malformed rewrites: a list of { index, length, text }, each inside the window (8 long), at least 1 long, not overlapping";
      const cases: [unknown, string][] = [
        ['nope', malformed],
        [7, 'rewrites is not iterable'],
        [[null], "Cannot destructure property 'index' of 'object null' as it is null."],
        [[{ index: 0, length: 0, text: '' }], malformed],
        [[{ index: 5, length: 4, text: 'x' }], malformed],
        [[{ index: -1, length: 2, text: 'x' }], malformed],
        [[{ index: 0.5, length: 1, text: 'x' }], malformed],
        [[{ index: 0, length: 1, text: 7 }], malformed],
        [[{ index: 0, length: 3, text: 'x' }, { index: 2, length: 2, text: 'y' }], malformed],
      ];
      for (const [rewrites, reason] of cases) {
        const rail = defineRail('bad', () => ({ allowed: true, rewrites }) as never);
        const outcome = collectNow(from(['one ', 'two ']).pipe(guard([rail], small)));
        expect(outcome.items).toEqual([]);
        expect((outcome.error as RailViolationError).message).toBe(`Internal error in bad rail: ${reason}`);
      }
    });

    it('should ignore the rewrites of a blocked verdict, and treat an empty list as none', () => {
      const empty = defineRail('empty', () => ({ allowed: true, rewrites: [] }));
      expect(collectNow(from(['a', 'b', 'c']).pipe(guard([empty], small)))).toEqual({ items: ['a', 'b', 'c'], completed: true });
      const blocking = defineRail('blocking', () => ({ allowed: false, rewrites: [{ index: 0, length: 1, text: 'x' }] }));
      const outcome = collectNow(from(['a', 'b']).pipe(guard([blocking], small)));
      expect(outcome.items).toEqual([]);
      expect((outcome.error as RailViolationError).info.verdict).toEqual({ rail: 'blocking', allowed: false, kind: 'violation' });
    });

    it('should merge overlapping spans of several rails into one, the first-starting one standing for both', () => {
      const items = ['one secret', 'ary thing'];
      const outcome = collectNow(from(items).pipe(guard([rewriting('secret', '[S]', 's'), rewriting('secretary', '[T]', 't')], { chunkSize: 4, contextSize: 1, streamFirst: false })));
      // Both start at 4: the longer (secretary) is the one kept, extended by nothing.
      expect(outcome).toEqual({ items: ['one [T]', ' thing'], completed: true });
    });

    it('should give exactly what bufferChunks, checkRail and blockOnViolation give', () => {
      const items = ['top ', 'sec', 'ret ', 'and ', 'secret', ' plan'];
      const composed = collectNow(from(items).pipe(bufferChunks({ chunkSize: 3, contextSize: 2 }), checkRail([mask]), blockOnViolation()));
      expect(composed).toEqual({ items: ['top ', '[X]', ' ', 'and ', '[X]', ' plan'], completed: true });
      expect(collectNow(from(items).pipe(guard([mask], { chunkSize: 3, contextSize: 2, streamFirst: false })))).toEqual(composed);
    });

    it('should stop pulling from a synchronous source when the consumer takes only some items', () => {
      let pulled = 0;
      const endless = new Observable<string>((subscriber) => {
        for (let count = 0; count < 10_000 && !subscriber.closed; count++) {
          pulled++;
          subscriber.next(count % 3 === 0 ? 'secret ' : 'word ');
        }
      });
      expect(collectNow(endless.pipe(guard([mask], small), take(3)))).toEqual({ items: ['[X] ', 'word ', 'word '], completed: true });
      expect(pulled).toBeLessThan(10);
    });

    it('should rewrite the same with an asynchronous rail', async () => {
      const rail = defineRail('async mask', async (text) => rewritten(text, 'secret'));
      expect(await collect(from(['top ', 'sec', 'ret ', 'plan']).pipe(guard([rail], small)))).toEqual({ items: ['top ', '[X]', ' ', 'plan'], completed: true });
    });
  });

  describe('streamFirst: true', () => {
    it('should fail closed at the first window a rail rewrites, as an internal error of that rail, whatever onError says', () => {
      const reason = 'it rewrote text already released (streamFirst: true); rewriting rails need streamFirst: false';
      for (const onError of ['block', 'allow'] as const) {
        const outcome = collectNow(from(['top ', 'sec', 'ret ', 'plan']).pipe(guard([mask], { ...small, streamFirst: true, onError })));
        expect(outcome.items).toEqual(['top ', 'sec', 'ret ']);
        const error = outcome.error as RailViolationError;
        expect(error.message).toBe(`Internal error in mask rail: ${reason}`);
        expect(error.info).toMatchObject({ rail: 'mask', batchIndex: 1, verdict: { rail: 'mask', allowed: false, kind: 'internal_error', reason } });
      }
    });

    it('should leave windows without rewrites alone', () => {
      expect(collectNow(from(['top ', 'news']).pipe(guard([mask], { ...small, streamFirst: true })))).toEqual({ items: ['top ', 'news'], completed: true });
    });
  });

  describe('properties', () => {
    // Filler that cannot spell the phrase (no a-e), the phrase over a-e inserted a few times, apart.
    const filler = fc.string({ unit: fc.constantFrom(...'fghijklmnopqrstuvwxyz '), minLength: 1, maxLength: 6 });
    const rewriteCase = growingSizeArbitrary.chain((size) =>
      fc.record({
        size: fc.constant(size),
        phrase: fc.string({ unit: fc.constantFrom(...'abcde'), minLength: 1, maxLength: 10 }),
        fillers: fc.array(filler, { minLength: 1, maxLength: 6 }),
        copies: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        cuts: fc.array(fc.nat(), { maxLength: 40 }),
        cutAt: fc.nat(),
      }),
    );

    /** The text, where the phrase is, and the items (each phrase on at most contextSize + 1 of them). */
    function build({ size, phrase, fillers, copies, cuts }: { size: { contextSize: number }; phrase: string; fillers: string[]; copies: boolean[]; cuts: number[] }) {
      let text = '';
      fillers.forEach((words, position) => {
        text += words;
        if (copies[position] || position === 0) text += phrase;
      });
      text += 'z';
      const spans = occurrences(text, phrase).map((start) => ({ start, end: start + phrase.length, text: '[X]' }));
      return { text, spans, items: tokenize(text, cuts, spans, size.contextSize + 1) };
    }

    it('should release exactly the rewritten whole answer, item by item, never a letter of the phrase', () => {
      fc.assert(
        fc.property(rewriteCase, (testCase) => {
          const { text, spans, items } = build(testCase);
          expect(items.join('')).toBe(text);
          const released: string[] = [];
          from(items)
            .pipe(guard([rewriting(testCase.phrase)], { ...testCase.size, streamFirst: false }))
            .subscribe((item) => {
              released.push(item);
              // No letter of the phrase (a-e) is ever out, at any moment.
              expect(/[a-e]/.test(item)).toBe(false);
            });
          expect(released.join('')).toBe(text.split(testCase.phrase).join('[X]'));
          expect(released).toEqual(releasedItems(items, spans));
        }),
        { numRuns: 1000 },
      );
    });

    it('should release a prefix of the rewritten answer, without a letter of the phrase, when the stream fails midway', () => {
      fc.assert(
        fc.property(rewriteCase, (testCase) => {
          const { text, items } = build(testCase);
          const cut = testCase.cutAt % (items.length + 1);
          const source = concat(from(items.slice(0, cut)), throwError(() => new Error('cut')));
          const outcome = collectNow(source.pipe(guard([rewriting(testCase.phrase)], { ...testCase.size, streamFirst: false })));
          const released = outcome.items.join('');
          expect(text.split(testCase.phrase).join('[X]').startsWith(released)).toBe(true);
          expect(/[a-e]/.test(released)).toBe(false);
        }),
        { numRuns: 500 },
      );
    });

    it('should release the same with an asynchronous rewriting rail', async () => {
      await fc.assert(
        fc.asyncProperty(rewriteCase, async (testCase) => {
          const { text, items } = build(testCase);
          const rail = defineRail('async mask', async (window) => rewritten(window, testCase.phrase));
          const outcome = await collect(from(items).pipe(guard([rail], { ...testCase.size, streamFirst: false })));
          expect(outcome.items.join('')).toBe(text.split(testCase.phrase).join('[X]'));
        }),
        { numRuns: 60 },
      );
    });

    // A rail that rewrites every run of a-e letters sees any part of a run as a run: a window cut inside one finds the
    // part it holds, and the next window's part overlaps it, so the spans extend each other across windows.
    const runs = defineRail('runs', (text) => {
      const rewrites = [...text.matchAll(/[a-e]+/g)].map((match) => ({ index: match.index, length: match[0].length, text: '[X]' }));
      return rewrites.length === 0 ? true : { allowed: true, rewrites };
    });
    const runCase = growingSizeArbitrary.chain((size) =>
      fc.record({
        size: fc.constant(size),
        parts: fc.array(fc.tuple(filler, fc.string({ unit: fc.constantFrom(...'abcde'), minLength: 1, maxLength: 30 })), { minLength: 1, maxLength: 5 }),
        cuts: fc.array(fc.nat(), { maxLength: 60 }),
      }),
    );

    it('should extend a span across windows: a run of any length, on any number of items, is one replacement with contextSize >= 1', () => {
      fc.assert(
        fc.property(runCase, ({ size, parts, cuts }) => {
          const text = `${parts.map(([words, run]) => words + run).join('')}z`;
          // No empty items: a window whose context items are all empty cannot see that its run goes on either.
          const items = tokenize(text, cuts, [], Number.POSITIVE_INFINITY).filter((item) => item !== '');
          const released: string[] = [];
          from(items)
            .pipe(guard([runs], { ...size, streamFirst: false }))
            .subscribe((item) => {
              released.push(item);
              expect(/[a-e]/.test(item)).toBe(false);
            });
          // With no context a window cannot tell that its run goes on: the next window's part is a run of its own.
          if (size.contextSize > 0) expect(released.join('')).toBe(text.replace(/[a-e]+/g, '[X]'));
          else expect(released.join('')).toMatch(new RegExp(`^${text.replace(/[a-e]+/g, '(?:\\[X\\])+')}$`));
        }),
        { numRuns: 500 },
      );
    });

    it('should lose and repeat nothing: a phrase rewritten to itself gives back the text', () => {
      fc.assert(
        fc.property(rewriteCase, (testCase) => {
          const { text, items } = build(testCase);
          const outcome = collectNow(from(items).pipe(guard([rewriting(testCase.phrase, testCase.phrase)], { ...testCase.size, streamFirst: false })));
          expect(outcome.completed).toBe(true);
          expect(outcome.items.join('')).toBe(text);
        }),
        { numRuns: 300 },
      );
    });
  });
});
