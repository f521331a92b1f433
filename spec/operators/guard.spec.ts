import fc from 'fast-check';
import { defer, from, map, mergeMap, type Observable, of, range, Subject, take, toArray } from 'rxjs';
import {
  blockOnViolation,
  bufferChunks,
  checkRail,
  defineRail,
  guard,
  type GuardOptions,
  InvalidItemError,
  InvalidOptionError,
  keywordRail,
  RailViolationError,
  type RailVerdict,
} from 'rxguardrails';
import { createTestScheduler, fakeRail } from 'rxguardrails/testing';
import { collect, collectNow, type Outcome } from '../support/collect.js';
import { growingSizeArbitrary, itemsArbitrary, windowModel } from '../support/windowModel.js';

const secret = keywordRail(['secret']);
const secretVerdict = (index: number): RailVerdict => ({
  rail: 'keyword',
  allowed: false,
  kind: 'violation',
  reason: 'matched keyword "secret"',
  match: { text: 'secret', index },
});
const blockedAt = (batchIndex: number, verdict: RailVerdict) => new RailViolationError({ rail: verdict.rail, batchIndex, verdict });
const small: GuardOptions = { chunkSize: 2, contextSize: 1 };

// "secret" is split over b and c; the window [b c] is the first to contain it.
const leaky = { a: 'top ', b: 'sec', c: 'ret ', d: 'plan' };
const clean = { a: 'top ', b: 'news', c: ' today', d: '!' };

describe('guard', () => {
  describe.each([true, false])('marbles, streamFirst: %s (chunkSize 2, contextSize 1)', (streamFirst) => {
    const guarded = (options: GuardOptions = {}) => guard([secret], { ...small, streamFirst, ...options });

    it('should not emit and not complete when the source never emits', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<string>('-').pipe(guarded())).toBe('-');
      });
    });

    it('should complete when the source is empty', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<string>('|');
        expectObservable(source.pipe(guarded())).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('should release a single item, checked as the final window', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a|', clean);
        const expected = streamFirst ? '-a|' : '--(a|)';
        expectObservable(source.pipe(guarded())).toBe(expected, clean);
      });
    });

    it('should release a clean stream', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', clean);
        const sourceSubs = ' ^------!';
        // streamFirst: false releases a when [a b] passed, b when [b c] passed, c on completion.
        const expected = streamFirst ? '-a-b-c-|' : '---a-b-(c|)';
        expectObservable(source.pipe(guarded())).toBe(expected, clean);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should stop at the window holding a forbidden word and unsubscribe the source at once', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|', leaky);
        const sourceSubs = ' ^----!';
        // streamFirst: true released "sec" and "ret " on arrival; false released only "top ".
        const expected = streamFirst ? '-a-b-(c#)' : '---a-#';
        expectObservable(source.pipe(guarded())).toBe(expected, leaky, blockedAt(1, secretVerdict(0)));
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it("should emit NeMo's payload and complete in mode 'chunk'", () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|', leaky);
        const sourceSubs = ' ^----!';
        const expected = streamFirst ? '-a-b-(cp|)' : '---a-(p|)';
        expectObservable(source.pipe(guarded({ mode: 'chunk' }))).toBe(expected, {
          ...leaky,
          p: '{"error": {"message": "Blocked by keyword rails.", "type": "guardrails_violation", "param": "keyword", "code": "content_blocked"}}',
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it("should emit the replacement and complete in mode 'replace'", () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-d-|', leaky);
        const expected = streamFirst ? '-a-b-(cr|)' : '---a-(r|)';
        expectObservable(source.pipe(guarded({ mode: 'replace' }))).toBe(expected, { ...leaky, r: "I'm sorry, I can't respond to that." });
      });
    });

    it('should pass a source error through', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-#', clean, new Error('ECONNRESET'));
        const expected = streamFirst ? '-a-b-#' : '---a-#';
        expectObservable(source.pipe(guarded())).toBe(expected, clean, new Error('ECONNRESET'));
      });
    });

    it('should keep releasing a never-ending source', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-', clean);
        const expected = streamFirst ? '-a-b-c-' : '---a-b-';
        expectObservable(source.pipe(guarded())).toBe(expected, clean);
      });
    });

    it('should unsubscribe the source on early unsubscription', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', clean);
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const expected = streamFirst ? '-a-b' : '---a';
        expectObservable(source.pipe(guarded()), unsub).toBe(expected, clean);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should not break unsubscription chains when the result is unsubscribed explicitly', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', clean);
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const result = source.pipe(
          mergeMap((item) => of(item)),
          guarded(),
          mergeMap((item) => of(item)),
        );
        expectObservable(result, unsub).toBe(streamFirst ? '-a-b' : '---a', clean);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should fail closed when a rail throws', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const failure = new Error('judge unreachable');
        const broken = defineRail('self check output', () => {
          throw failure;
        });
        const source = cold('-a-b-c-|', clean);
        const verdict: RailVerdict = { rail: 'self check output', allowed: false, kind: 'internal_error', reason: 'judge unreachable', error: failure };
        const expected = streamFirst ? '-a-(b#)' : '---#';
        expectObservable(source.pipe(guard([broken], { ...small, streamFirst }))).toBe(expected, clean, blockedAt(0, verdict));
      });
    });

    it('should error with InvalidItemError when a non-string item arrives', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<unknown>('-a-n-c-|', { a: 'top ', n: { text: 'sdk chunk' }, c: 'x' });
        const sourceSubs = ' ^--!';
        const expected = streamFirst ? '-a-#' : '---#';
        expectObservable(source.pipe(guarded() as never)).toBe(expected, { a: 'top ' }, new InvalidItemError('guard', 1, { text: 'sdk chunk' }));
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should stop an endless synchronous source when the consumer takes only some items', () => {
      const endless = range(0, Number.POSITIVE_INFINITY).pipe(map((position) => `${position} `));
      const outcome = collectNow(endless.pipe(guard([secret], { ...small, streamFirst }), take(3)));
      expect(outcome).toEqual({ items: ['0 ', '1 ', '2 '], completed: true });
    });

    it('should stop pulling from a synchronous source at the violation', () => {
      let pulled = 0;
      const tokens = function* () {
        for (const token of ['top ', 'sec', 'ret ', 'and ', 'more ', 'text']) {
          pulled++;
          yield token;
        }
      };
      const outcome = collectNow(from(tokens()).pipe(guard([secret], { ...small, streamFirst })));
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      expect(pulled).toBe(3);
    });
  });

  describe('asynchronous rails', () => {
    it('should keep releasing with streamFirst while a check is pending, then stop at the violation', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const judge = fakeRail({ name: 'judge', respond: 'observable', delayMs: 10, answer: (text) => !text.includes('sec') });
        const source = cold('-a-b-c-d-|', leaky);
        const sourceSubs = ' ^--------!';
        // [a b] is checked from frame 3 to 13 and blocks ("top sec"); c, d and the completion came meanwhile.
        const expected = '   -a-b-c-d-----#';
        const verdict: RailVerdict = { rail: 'judge', allowed: false, kind: 'violation' };
        expectObservable(source.pipe(guard([judge], { chunkSize: 2, contextSize: 0 }))).toBe(expected, leaky, blockedAt(0, verdict));
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should complete with streamFirst only after the last window was checked', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const judge = fakeRail({ name: 'judge', respond: 'observable', delayMs: 10 });
        const source = cold('-a-b|', clean);
        const expected = '   -a-b---------|';
        expectObservable(source.pipe(guard([judge], small))).toBe(expected, clean);
      });
    });

    it.each([true, false])('should work with rails answering by Promise (streamFirst: %s)', async (streamFirst) => {
      const judge = fakeRail({ name: 'judge', respond: 'promise', delayMs: 2, answer: (text) => !text.includes('ret') });
      const outcome = await collect(from(Object.values(leaky)).pipe(guard([judge], { ...small, streamFirst })));
      // With streamFirst, a synchronous source has released everything before the first check answers.
      expect(outcome.items).toEqual(streamFirst ? Object.values(leaky) : ['top ']);
      expect((outcome.error as RailViolationError).info).toEqual({ rail: 'judge', batchIndex: 1, verdict: { rail: 'judge', allowed: false, kind: 'violation' } });
      expect(judge.texts).toEqual(['top sec', 'secret ']);
    });

    it('should abort the check in flight when the consumer unsubscribes', () => {
      const judge = fakeRail({ name: 'judge', respond: 'promise', delayMs: 10_000 });
      const subscription = from(['a', 'b']).pipe(guard([judge], small)).subscribe();
      expect(judge.calls[0]!.context.signal.aborted).toBe(false);
      subscription.unsubscribe();
      expect(judge.calls[0]!.context.signal.aborted).toBe(true);
    });

    it('should run parallel rails, report the first block and abort the others', async () => {
      jest.useFakeTimers();
      try {
        const slow = fakeRail({ name: 'slow', respond: 'promise', delayMs: 5_000 });
        const quick = fakeRail({ name: 'quick', respond: 'promise', delayMs: 1, answer: false });
        let outcome: Outcome | undefined;
        void collect(from(['a', 'b']).pipe(guard([slow, quick], { ...small, parallel: true, streamFirst: false }))).then((settled) => (outcome = settled));
        // The verdict of the quick rail is enough: the outcome is there long before the slow rail would answer.
        await jest.advanceTimersByTimeAsync(1);
        expect(outcome).toEqual({ items: [], error: expect.any(Error), completed: false });
        expect(RailViolationError.isInstance(outcome!.error)).toBe(true);
        expect((outcome!.error as RailViolationError).info).toEqual({ rail: 'quick', batchIndex: 0, verdict: { rail: 'quick', allowed: false, kind: 'violation' } });
        expect(slow.calls[0]!.context.signal.aborted).toBe(true);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('properties', () => {
    const allowAll = defineRail('allow all', () => true);

    it('should release exactly the input, in order, with an allow-all rail in both modes', () => {
      fc.assert(
        fc.property(growingSizeArbitrary, itemsArbitrary, fc.boolean(), (size, items, streamFirst) => {
          expect(collectNow(from(items).pipe(guard([allowAll], { ...size, streamFirst })))).toEqual({ items, completed: true });
        }),
      );
    });

    it('should release exactly the input with an asynchronous allow-all rail in both modes', async () => {
      await fc.assert(
        fc.asyncProperty(growingSizeArbitrary, itemsArbitrary, fc.boolean(), async (size, items, streamFirst) => {
          const rail = defineRail('async allow', async () => true);
          expect(await collect(from(items).pipe(guard([rail], { ...size, streamFirst })))).toEqual({ items, completed: true });
        }),
        { numRuns: 40 },
      );
    });

    const filler = fc.string({ unit: fc.constantFrom(...'fghijklmnopqrstuvwxyz '), maxLength: 5 });
    // A text made of a filler alphabet that cannot spell the phrase, with the phrase (in any letter case) once.
    const leakCase = growingSizeArbitrary.chain((size) =>
      fc.record({
        size: fc.constant(size),
        phrase: fc.string({ unit: fc.constantFrom(...'abcde'), minLength: 1, maxLength: 10 }),
        upper: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        prefix: fc.array(filler, { maxLength: 8 }),
        suffix: fc.array(filler, { maxLength: 8 }),
        pieces: fc.integer({ min: 1, max: size.contextSize + 1 }),
        cuts: fc.array(fc.nat(), { maxLength: 10 }),
        glueBefore: fc.boolean(),
        glueAfter: fc.boolean(),
      }),
    );

    it('should release held-back text as each window passes: the first item after firstChunkSize items (default contextSize + 1), not chunkSize', () => {
      fc.assert(
        fc.property(growingSizeArbitrary, fc.integer({ min: 0, max: 40 }), (size, length) => {
          const items = Array.from({ length }, (_, position) => `t${position} `);
          const first = size.firstChunkSize ?? size.contextSize + 1;
          const windows = windowModel(items, size.chunkSize, size.contextSize, first);
          const source = new Subject<string>();
          const released: string[] = [];
          source.pipe(guard([allowAll], { ...size, streamFirst: false })).subscribe((item) => released.push(item));
          for (let count = 1; count <= length; count++) {
            source.next(items[count - 1]!);
            // What the windows complete by now have passed, all but their last contextSize items.
            const passed = windows.filter((window) => !window.final && window.end <= count).at(-1);
            expect(released).toEqual(items.slice(0, passed === undefined ? 0 : passed.end - size.contextSize));
            if (count < first) expect(released).toEqual([]);
          }
          if (length >= first) expect(released.length).toBeGreaterThan(0);
          source.complete();
          expect(released).toEqual(items);
        }),
      );
    });

    it('should join windows cut while an asynchronous rail is still checking, checking fewer, larger windows, numbered in order', async () => {
      const checked: { index: number; text: string }[] = [];
      const answers: (() => void)[] = [];
      const slow = defineRail('slow', (text, { batch }) => {
        checked.push({ index: batch.index, text });
        return new Promise<boolean>((resolve) => answers.push(() => resolve(!text.includes('forbidden'))));
      });
      const source = new Subject<string>();
      const released: string[] = [];
      let error: unknown;
      source.pipe(guard([slow], { chunkSize: 8, contextSize: 2, streamFirst: false })).subscribe({ next: (item) => released.push(item), error: (thrown) => (error = thrown) });
      const words = Array.from({ length: 12 }, (_, position) => `w${position} `);
      // Windows of 3, 4, 6, 8 items are cut at items 3, 5, 9, 15: those at 5 and 9 wait behind the first check.
      for (const word of words.slice(0, 3)) source.next(word);
      expect(checked).toEqual([{ index: 0, text: 'w0 w1 w2 ' }]);
      for (const word of words.slice(3, 9)) source.next(word);
      answers.shift()!();
      await Promise.resolve();
      await Promise.resolve();
      // The two waiting windows went to the rail as one: items 1..8 (the first window's last 2, and 6 new).
      expect(checked.at(-1)).toEqual({ index: 1, text: words.slice(1, 9).join('') });
      expect(released).toEqual(words.slice(0, 1));
      source.next('forbidden ');
      answers.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(released).toEqual(words.slice(0, 7));
      source.complete();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(checked.at(-1)).toEqual({ index: 2, text: `${words.slice(7, 9).join('')}forbidden ` });
      answers.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(released.join('')).not.toContain('forbidden');
      expect((error as RailViolationError).info.batchIndex).toBe(2);
    });

    it('should never release any part of a forbidden phrase of at most contextSize + 1 items with streamFirst: false', () => {
      fc.assert(
        fc.property(leakCase, ({ size, phrase, upper, prefix, suffix, pieces, cuts, glueBefore, glueAfter }) => {
          const written = [...phrase].map((char, position) => (upper[position] ? char.toUpperCase() : char)).join('');
          const count = Math.min(pieces, written.length);
          const cutPoints = [...new Set(cuts.map((cut) => 1 + (cut % Math.max(1, written.length - 1))))]
            .filter((cut) => cut < written.length)
            .sort((a, b) => a - b)
            .slice(0, count - 1);
          const phraseItems = [0, ...cutPoints].map((start, position) => written.slice(start, cutPoints[position] ?? written.length));
          const before = [...prefix];
          const after = [...suffix];
          // Gluing keeps the phrase on as many items, but lets it start or end mid-item.
          if (glueBefore && before.length > 0) phraseItems[0] = before.pop()! + phraseItems[0];
          if (glueAfter && after.length > 0) phraseItems[phraseItems.length - 1] += after.shift()!;
          const items = [...before, ...phraseItems, ...after];
          const text = items.join('');
          const phraseStart = text.toLowerCase().indexOf(phrase);

          const outcome = collectNow(from(items).pipe(guard([keywordRail([phrase])], { ...size, streamFirst: false })));
          expect(RailViolationError.isInstance(outcome.error)).toBe(true);
          const released = outcome.items.join('');
          expect(text.startsWith(released)).toBe(true);
          expect(released.length).toBeLessThanOrEqual(phraseStart);
        }),
        { numRuns: 500 },
      );
    });

    const blockingCase = fc.record({
      size: growingSizeArbitrary,
      items: fc.array(fc.constantFrom('a', 'b', 'x', 'ab', 'xa', '', ' '), { maxLength: 40 }),
      keyword: fc.constantFrom('ab', 'bx', 'xx', 'aba'),
    });

    it('should give with streamFirst: false exactly what bufferChunks, checkRail and blockOnViolation give', () => {
      fc.assert(
        fc.property(blockingCase, ({ size, items, keyword }) => {
          const rails = [keywordRail([keyword])];
          // guard holding text back starts with windows of contextSize + 1 items unless told otherwise.
          const composed = collectNow(from(items).pipe(bufferChunks({ firstChunkSize: size.contextSize + 1, ...size }), checkRail(rails), blockOnViolation()));
          expect(collectNow(from(items).pipe(guard(rails, { ...size, streamFirst: false })))).toEqual(composed);
        }),
      );
    });

    it('should release with streamFirst: true every item up to the end of the first blocked window, and nothing after', () => {
      fc.assert(
        fc.property(blockingCase, ({ size, items, keyword }) => {
          const windows = windowModel(items, size.chunkSize, size.contextSize, size.firstChunkSize);
          const firstBlocked = windows.find((window) => window.text.toLowerCase().includes(keyword));
          const outcome = collectNow(from(items).pipe(guard([keywordRail([keyword])], { ...size, streamFirst: true })));
          if (firstBlocked === undefined) {
            expect(outcome).toEqual({ items, completed: true });
          } else {
            expect(outcome.items).toEqual(items.slice(0, firstBlocked.end));
            expect((outcome.error as RailViolationError).info.batchIndex).toBe(firstBlocked.index);
          }
        }),
      );
    });

    it('should release with streamFirst: false every item whose windows all passed, and nothing else', () => {
      fc.assert(
        fc.property(blockingCase, ({ size, items, keyword }) => {
          const windows = windowModel(items, size.chunkSize, size.contextSize, size.firstChunkSize ?? size.contextSize + 1);
          const firstBlocked = windows.find((window) => window.text.toLowerCase().includes(keyword));
          const outcome = collectNow(from(items).pipe(guard([keywordRail([keyword])], { ...size, streamFirst: false })));
          if (firstBlocked === undefined) {
            expect(outcome).toEqual({ items, completed: true });
          } else {
            // Items before the blocked window's start have all their windows before it.
            expect(outcome.items).toEqual(items.slice(0, firstBlocked.start));
          }
        }),
      );
    });
  });

  describe('bad options', () => {
    it.each([
      [[secret], { chunkSize: 0 }, 'guard: chunkSize must be an integer of at least 1, got 0'],
      [[secret], { chunkSize: 5, contextSize: 5 }, 'guard: contextSize must be less than chunkSize, got contextSize 5 with chunkSize 5'],
      [[secret], { streamFirst: 'no' }, 'guard: streamFirst must be true or false, got "no"'],
      [[secret], { stream_first: false }, "guard: unknown option 'stream_first' (did you mean 'streamFirst'?)"],
      [[secret], { replacement: 'x' }, "guard: replacement is only used with mode 'replace' (mode is 'error')"],
      [[secret], { timeout: -1 }, 'guard: timeout must be a positive, finite number of milliseconds, got -1'],
      [[{ check: () => true }], {}, 'guard: rails[0] has no name'],
      [[secret, secret], {}, "guard: two rails are named 'keyword'"],
    ])('should throw InvalidOptionError for rails %j with options %j', (rails, options, message) => {
      const create = () => guard(rails as never, options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });

    it('should be usable many times: one operator instance, independent subscriptions', async () => {
      const operator = guard([secret], small);
      const results = await Promise.all([collect(from(Object.values(leaky)).pipe(operator)), collect(from(Object.values(clean)).pipe(operator))]);
      // The leaky stream is blocked at [sec ret ] (window 1) as if it were alone; the clean one is not affected.
      expect(results[0]).toEqual({ items: ['top ', 'sec', 'ret '], error: blockedAt(1, secretVerdict(0)), completed: false });
      expect(RailViolationError.isInstance(results[0]!.error)).toBe(true);
      expect((results[0]!.error as RailViolationError).info).toEqual({ rail: 'keyword', batchIndex: 1, verdict: secretVerdict(0) });
      expect(results[1]).toEqual({ items: Object.values(clean), completed: true });
    });
  });
});

// Type-level use: the pipeline stays Observable<string>.
export const typed: Observable<string> = defer(() => of('x')).pipe(guard([secret]), toArray(), map((items) => items.join('')));
