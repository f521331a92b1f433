// RailContext.passedPrefix: a window's context that a rail already passed in the window before, which keywordRail
// does not search again. What the checker tells each rail (only what it passed, only where the window repeats it),
// and that searching only past it finds what searching the whole window finds.
import fc from 'fast-check';
import { from, interval, map, take } from 'rxjs';
import { bufferChunks, checkRail, type ChunkBatch, defineRail, guard, keywordRail, type RailContext, RailViolationError } from 'rxguardrails';
import { collect, collectNow } from '../support/collect.js';

/** A rail recording the passedPrefix of each call, and blocking the texts `blocks` says. */
function recordingRail(name = 'recording', blocks: (text: string) => boolean = () => false) {
  const seen: number[] = [];
  const rail = defineRail(name, (text, { passedPrefix }: RailContext) => {
    seen.push(passedPrefix ?? -1);
    return !blocks(text);
  });
  return { rail, seen };
}

// Keywords that never meet the texts, two characters each, taking a list past the alternation's 256 characters to
// the automaton (the matcher that uses passedPrefix) without lengthening its longest keyword.
const filler = Array.from({ length: 140 }, (_, position) => `\u4e00${String.fromCharCode(0x4e01 + position)}`);

const words = (count: number) => Array.from({ length: count }, (_, position) => `w${position % 10} `);

describe('passedPrefix, as the checker gives it', () => {
  it("should be 0 for the first window, then the context's characters while the rail passes every window", () => {
    for (const streamFirst of [true, false]) {
      const { rail, seen } = recordingRail();
      collectNow(from(words(10)).pipe(guard([rail], { chunkSize: 4, contextSize: 2, streamFirst })));
      // Every item is 3 characters; windows after the first repeat 2 items (with streamFirst: false the first
      // windows are smaller and grow, and repeat 2 items all the same).
      expect(seen[0]).toBe(0);
      expect(seen.slice(1)).toEqual(seen.slice(1).map(() => 6));
      expect(seen.length).toBeGreaterThan(3);
    }
  });

  it('should be 0 after a window the rail blocked or failed, and for a rail that did not run on the window before', () => {
    // checkRail goes on after a block. Windows: w0-w3 and w2-w5 (both blocked by the first rail: w3), w4-w7.
    const first = recordingRail('first', (text) => text.includes('w3'));
    const second = recordingRail('second');
    const checked: boolean[] = [];
    from(words(8))
      .pipe(bufferChunks({ chunkSize: 4, contextSize: 2 }), checkRail([first.rail, second.rail]))
      .subscribe((batch) => checked.push(batch.blocked === undefined));
    expect(checked).toEqual([false, false, true]);
    // The first rail passed no window before the last; the second only ran on the last.
    expect(first.seen).toEqual([0, 0, 0]);
    expect(second.seen).toEqual([0]);

    const prefixes: number[] = [];
    const failing = defineRail('failing', (_text, { passedPrefix }) => {
      prefixes.push(passedPrefix ?? -1);
      if (prefixes.length === 2) throw new Error('down');
      return true;
    });
    const after = recordingRail('after');
    collectNow(from(words(10)).pipe(guard([failing, after.rail], { chunkSize: 4, contextSize: 2, onError: 'allow' })));
    // Its failed check of window 1 counts as allowed, but it was no pass: it searches window 2 whole.
    expect(prefixes).toEqual([0, 6, 0, 6]);
    expect(after.seen).toEqual([0, 6, 6, 6]);
  });

  it('should be 0 where a window does not start with the end of the one before (windows made by hand)', () => {
    const { rail, seen } = recordingRail();
    const batches: ChunkBatch[] = [
      { index: 0, text: 'abcdef', chunks: ['abc', 'def'], final: false, overlap: 1 },
      { index: 1, text: 'defghi', chunks: ['ghi'], final: false, overlap: 1 },
      // Says it repeats 3 characters, but they are not the end of the window before.
      { index: 2, text: 'xyzjkl', chunks: ['jkl'], final: false, overlap: 1 },
      // Repeats more than the window before holds.
      { index: 3, text: 'abcdefghijklm', chunks: ['m'], final: false, overlap: 1 },
      // Repeats the end of the window before again.
      { index: 4, text: 'lmnop', chunks: ['nop'], final: true, overlap: 0 },
    ];
    from(batches).pipe(checkRail([rail])).subscribe();
    expect(seen).toEqual([0, 3, 0, 0, 2]);
  });

  it('should be 0 when read before the window ahead was passed, and its context once it was', async () => {
    // Checks of three windows at once, each answering 5 ms after it was called: the rail reads passedPrefix when
    // called, before the window ahead of it has answered, and again as it answers, when that window has passed.
    const called: number[] = [];
    const answering: number[] = [];
    const slow = defineRail('slow', (_text, context) => {
      called.push(context.passedPrefix ?? -1);
      return new Promise<boolean>((resolve) =>
        setTimeout(() => {
          answering.push(context.passedPrefix ?? -1);
          resolve(true);
        }, 5),
      );
    });
    const outcome = await collect(from(words(12)).pipe(guard([slow], { chunkSize: 4, contextSize: 2, concurrency: 3 })));
    expect(outcome.completed).toBe(true);
    expect(called.slice(0, 3)).toEqual([0, 0, 0]);
    // Read once, then kept: what a rail is told does not change under it.
    expect(answering.slice(0, 3)).toEqual([0, 0, 0]);

    // One at a time, each window waits for the one ahead: every one after the first is told its context.
    const { rail: sequential, seen: sequentialSeen } = recordingRail();
    const slowSequential = defineRail('slow', (text, context) => new Promise((resolve) => setTimeout(() => resolve(sequential.check(text, context) as boolean), 1)));
    await collect(from(words(12)).pipe(guard([slowSequential], { chunkSize: 4, contextSize: 2 })));
    expect(sequentialSeen).toEqual([0, 6, 6, 6, 6]);

    // With three at once, a rail that reads it only as it answers is told the context of the windows whose
    // predecessor passed meanwhile.
    const late: number[] = [];
    const lateReader = defineRail('late', (_text, context) => new Promise<boolean>((resolve) => setTimeout(() => resolve(late.push(context.passedPrefix ?? -1) > 0), 5)));
    await collect(from(words(12)).pipe(guard([lateReader], { chunkSize: 4, contextSize: 2, concurrency: 3 })));
    expect(late[0]).toBe(0);
    expect(late.slice(1).some((prefix) => prefix === 6)).toBe(true);
  });

  it('should be given in parallel mode too, per rail', () => {
    const first = recordingRail('first');
    const second = recordingRail('second', (text) => text.includes('w5'));
    const outcome = collectNow(from(words(10)).pipe(guard([first.rail, second.rail], { chunkSize: 4, contextSize: 2, parallel: true })));
    // Windows w0-w3, then w2-w5, which the second rail blocks.
    expect(RailViolationError.isInstance(outcome.error) && outcome.error.info.batchIndex).toBe(1);
    expect(first.seen).toEqual([0, 6]);
    expect(second.seen).toEqual([0, 6]);
  });

  it('should be 0 with contextSize 0, and absent for a rail called by hand', () => {
    const { rail, seen } = recordingRail();
    collectNow(from(words(6)).pipe(guard([rail], { chunkSize: 2, contextSize: 0 })));
    expect(seen).toEqual([0, 0, 0]);
    expect(keywordRail(['w1']).check('w0 w1', {} as RailContext)).toMatchObject({ allowed: false, match: { text: 'w1', index: 3 } });
  });
});

// Few characters, so keywords meet the texts often; case pairs RegExp folds (ſ/s, K/k/K), letters and digits for
// word boundaries, whitespace of several kinds in runs longer than any keyword, an emoji and the halves of one.
const alphabet = ['a', 'b', 'A', 's', 'S', 'ſ', 'k', 'K', '\u212a', 'é', '_', '1', '.', ' ', '\n', '\u00a0', '😀', '\ud83d', '\ude00'];
const textOf = (maxLength: number, letters = alphabet) => fc.array(fc.constantFrom(...letters), { maxLength }).map((characters) => characters.join(''));
const keyword = textOf(5).filter((candidate) => candidate.trim() !== '');
// For streams: no halves of a pair. An item boundary splitting a pair makes a window start with the pair's second
// half, which a search of that whole window reads alone (so a keyword starting with it matches there) while the
// window before read the pair: the same kind of match made by the window cut as with word boundaries (see below).
const pairs = alphabet.filter((character) => character !== '\ud83d' && character !== '\ude00');
const streamKeyword = textOf(5, pairs).filter((candidate) => candidate.trim() !== '');
const whitespaceRun = fc.array(fc.constantFrom(' ', '\n', '\t', '\u00a0', '\u2003'), { minLength: 1, maxLength: 12 }).map((run) => run.join(''));
const options = fc.record({ caseSensitive: fc.boolean(), wordBoundary: fc.boolean() });

/** Texts made of the keywords, with their whitespace widened, and other characters. */
function textArbitrary(keywords: readonly string[]) {
  const spaced = (candidate: string) => whitespaceRun.map((run) => candidate.trim().split(/\s+/).join(run));
  return fc.array(fc.oneof(fc.constantFrom(...keywords).chain(spaced), textOf(3), whitespaceRun), { maxLength: 10 }).map((parts) => parts.join(''));
}

describe('keywordRail with passedPrefix', () => {
  it('should find what the whole window gives wherever the passed part holds no match (the automaton skips it, the RegExp does not)', () => {
    const generated = fc.array(keyword, { minLength: 1, maxLength: 5 }).chain((keywords) =>
      fc.tuple(fc.constant(keywords), options, fc.boolean(), textArbitrary(keywords), fc.nat()),
    );
    fc.assert(
      fc.property(generated, ([keywords, chosen, automaton, text, cut]) => {
        const rail = keywordRail(automaton ? [...keywords, ...filler] : keywords, chosen);
        const passed = text.length === 0 ? 0 : cut % (text.length + 1);
        // What the rail was told: the window before held these characters and passed.
        if (rail.check(text.slice(0, passed), {} as RailContext) !== true) return;
        expect(rail.check(text, { passedPrefix: passed } as RailContext)).toEqual(rail.check(text, {} as RailContext));
      }),
      { numRuns: 4000 },
    );
  });

  it('should not be told the context after normalizing (NFKC), where offsets change', () => {
    const rail = keywordRail(['abcd', ...filler], { normalize: 'NFKC' });
    // The context: ten e + combining acute (20 units), each composed into é (10 units): the keyword that comes right
    // after it starts at 10 of the normalized text, whose first 20 units are no longer the context.
    const context = 'e\u0301'.repeat(10);
    expect(rail.check(`${context}abcd${'x'.repeat(20)}`, { passedPrefix: context.length } as RailContext)).toMatchObject({ allowed: false, match: { text: 'abcd', index: 10 } });
  });

  it('should block a guarded stream exactly as a search of each whole window does, for any cut into items', () => {
    const generated = fc.array(streamKeyword, { minLength: 1, maxLength: 4 }).chain((keywords) =>
      fc.tuple(
        fc.constant(keywords),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.oneof(fc.constantFrom(...keywords), textOf(3, pairs), whitespaceRun), { maxLength: 24 }),
        fc.integer({ min: 2, max: 8 }).chain((chunkSize) => fc.tuple(fc.constant(chunkSize), fc.integer({ min: 0, max: chunkSize - 1 }))),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(generated, ([keywords, caseSensitive, automaton, items, [chunkSize, contextSize], streamFirst]) => {
        // Without word boundaries: with them, a search of the whole window may match at its first character what
        // the window before saw preceded by a letter (a match the window cut made); the matcher property above
        // covers word boundaries where they agree.
        const list = automaton ? [...keywords, ...filler] : keywords;
        const rail = keywordRail(list, { caseSensitive });
        const whole = defineRail('keyword', (text) => rail.check(text, {} as RailContext));
        const run = (checked: typeof rail) => {
          const outcome = collectNow(from(items).pipe(guard([checked], { chunkSize, contextSize, streamFirst })));
          const info = RailViolationError.isInstance(outcome.error) ? outcome.error.info : undefined;
          return { items: outcome.items, completed: outcome.completed, window: info?.batchIndex, match: info?.verdict.match };
        };
        expect(run(rail)).toEqual(run(whole));
      }),
      { numRuns: 1500 },
    );
  });

  it('should block as a search of each whole window does with answers that come later, windows checked at once and merged', async () => {
    // A rail answering on a later microtask: with concurrency, windows are checked before the ones ahead of them
    // answered, and with streamFirst: false windows cut meanwhile are merged (WindowChecker's merging).
    const generated = fc.array(streamKeyword, { minLength: 1, maxLength: 3 }).chain((keywords) =>
      fc.tuple(
        fc.constant(keywords),
        fc.array(fc.oneof(fc.constantFrom(...keywords), textOf(3, pairs), whitespaceRun), { maxLength: 30 }),
        fc.integer({ min: 2, max: 8 }).chain((chunkSize) => fc.tuple(fc.constant(chunkSize), fc.integer({ min: 0, max: chunkSize - 1 }))),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(generated, async ([keywords, items, [chunkSize, contextSize], streamFirst, concurrency]) => {
        const rail = keywordRail([...keywords, ...filler]);
        const later = (check: (text: string, context: RailContext) => unknown) =>
          defineRail('keyword', (text, context) => Promise.resolve().then(() => check(text, context) as boolean));
        const run = async (checked: ReturnType<typeof later>) => {
          const outcome = await collect(from(items).pipe(guard([checked], { chunkSize, contextSize, streamFirst, concurrency })));
          const info = RailViolationError.isInstance(outcome.error) ? outcome.error.info : undefined;
          return { items: outcome.items, completed: outcome.completed, match: info?.verdict.match, reason: info?.verdict.reason };
        };
        expect(await run(later((text, context) => rail.check(text, context)))).toEqual(await run(later((text) => rail.check(text, {} as RailContext))));
      }),
      { numRuns: 400 },
    );
  });

  it('should still block a phrase whose words straddle the context, with whitespace wider than the window', async () => {
    // Window 1 repeats "launch" and 24 characters of whitespace, more than the phrase's 10 letters, then brings "code".
    const whitespace = ' \n\t'.repeat(8);
    const items = ['The ', 'launch', whitespace, 'code', ' is 0000'];
    const outcome = await collect(from(items).pipe(guard([keywordRail(['launch code', ...filler])], { chunkSize: 3, contextSize: 2 })));
    expect(RailViolationError.isInstance(outcome.error) && outcome.error.info).toMatchObject({ batchIndex: 1, verdict: { match: { text: `launch${whitespace}code`, index: 0 } } });

    // A slow stream, so the windows really are checked one after another as the text arrives.
    const slow$ = interval(1).pipe(
      take(items.length),
      map((position) => items[position]!),
    );
    const slowOutcome = await collect(slow$.pipe(guard([keywordRail(['launch code', ...filler])], { chunkSize: 3, contextSize: 2 })));
    expect(RailViolationError.isInstance(slowOutcome.error)).toBe(true);
  });
});
