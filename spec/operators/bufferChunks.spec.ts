import fc from 'fast-check';
import { from, mergeMap, of, range, take, map, toArray, lastValueFrom } from 'rxjs';
import { bufferChunks, type ChunkBatch, InvalidItemError, InvalidOptionError } from 'rxguardrails';
import { createTestScheduler } from 'rxguardrails/testing';
import { asBatch, itemsArbitrary, windowModel, windowSizeArbitrary } from '../support/windowModel.js';

const batch = (index: number, text: string, chunks: string[], final = false, overlap = 1): ChunkBatch => ({
  index,
  text,
  chunks,
  final,
  overlap: final ? 0 : overlap,
});

function windowsOf(items: readonly string[], chunkSize: number, contextSize: number): ChunkBatch[] {
  let result: ChunkBatch[] = [];
  from(items)
    .pipe(bufferChunks({ chunkSize, contextSize }), toArray())
    .subscribe((batches) => (result = batches));
  return result;
}

const letters = (count: number) => Array.from({ length: count }, (_, position) => String.fromCharCode(97 + position));

describe('bufferChunks', () => {
  describe('marbles (chunkSize 2, contextSize 1)', () => {
    const windows = () => bufferChunks({ chunkSize: 2, contextSize: 1 });

    it('should not emit and not complete when the source never emits', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        const sourceSubs = ' ^';
        const expected = '   -';
        expectObservable(source.pipe(windows())).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should complete without a window when the source is empty', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        const sourceSubs = ' (^!)';
        const expected = '   |';
        expectObservable(source.pipe(windows())).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should emit one final window for a single item when the source completes', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a|');
        const expected = '   --(x|)';
        expectObservable(source.pipe(windows())).toBe(expected, { x: batch(0, 'a', ['a'], true) });
      });
    });

    it('should emit each window the moment its last item arrives', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|');
        const sourceSubs = ' ^--------!';
        const expected = '   ---x-y-z-|';
        expectObservable(source.pipe(windows())).toBe(expected, {
          x: batch(0, 'ab', ['a', 'b']),
          y: batch(1, 'bc', ['c']),
          z: batch(2, 'cd', ['d']),
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should pass a source error through at once', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c#', undefined, new Error('socket hang up'));
        const expected = '   ---x-y#';
        expectObservable(source.pipe(windows())).toBe(
          expected,
          { x: batch(0, 'ab', ['a', 'b']), y: batch(1, 'bc', ['c']) },
          new Error('socket hang up'),
        );
      });
    });

    it('should keep emitting windows from a never-ending source', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-');
        const expected = '   ---x-y-';
        expectObservable(source.pipe(windows())).toBe(expected, { x: batch(0, 'ab', ['a', 'b']), y: batch(1, 'bc', ['c']) });
      });
    });

    it('should unsubscribe the source on early unsubscription', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|');
        const sourceSubs = ' ^-----!';
        const unsub = '      ------!';
        const expected = '   ---x-y';
        expectObservable(source.pipe(windows()), unsub).toBe(expected, { x: batch(0, 'ab', ['a', 'b']), y: batch(1, 'bc', ['c']) });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should not break unsubscription chains when the result is unsubscribed explicitly', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-d-|');
        const sourceSubs = ' ^-----!';
        const unsub = '      ------!';
        const expected = '   ---x-y';
        const result = source.pipe(
          mergeMap((item) => of(item)),
          windows(),
          mergeMap((window) => of(window)),
        );
        expectObservable(result, unsub).toBe(expected, { x: batch(0, 'ab', ['a', 'b']), y: batch(1, 'bc', ['c']) });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should error with InvalidItemError when a non-string item arrives, and unsubscribe the source', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<unknown>('-a-b-n-d-|', { a: 'a', b: 'b', n: 42, d: 'd' });
        const sourceSubs = ' ^----!';
        const expected = '   ---x-#';
        expectObservable(source.pipe(bufferChunks({ chunkSize: 2, contextSize: 1 }) as never)).toBe(
          expected,
          { x: batch(0, 'ab', ['a', 'b']) },
          new InvalidItemError('bufferChunks', 2, 42),
        );
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });
  });

  describe("NeMo's buffer scenarios, as DESIGN §3.1 defines them", () => {
    it('should cut 10 items with chunk 4 / context 2 into 4 windows and no context-only final window', () => {
      expect(windowsOf(letters(10), 4, 2)).toEqual([
        batch(0, 'abcd', ['a', 'b', 'c', 'd'], false, 2),
        batch(1, 'cdef', ['e', 'f'], false, 2),
        batch(2, 'efgh', ['g', 'h'], false, 2),
        batch(3, 'ghij', ['i', 'j'], false, 2),
      ]);
    });

    it('should cut 15 items with chunk 10 / context 5 into 2 windows', () => {
      const items = letters(15);
      expect(windowsOf(items, 10, 5)).toEqual([
        batch(0, 'abcdefghij', items.slice(0, 10), false, 5),
        batch(1, 'fghijklmno', items.slice(10), false, 5),
      ]);
    });

    it('should emit one final window of all items for a stream shorter than the chunk', () => {
      expect(windowsOf(['a', 'b', 'c'], 4, 1)).toEqual([batch(0, 'abc', ['a', 'b', 'c'], true)]);
    });

    it('should emit nothing for an empty stream', () => {
      expect(windowsOf([], 4, 1)).toEqual([]);
    });

    it.each([
      [4, 4, 1, [batch(0, 'abcd', ['a', 'b', 'c', 'd'], false, 1)]],
      [8, 4, 0, [batch(0, 'abcd', ['a', 'b', 'c', 'd'], false, 0), batch(1, 'efgh', ['e', 'f', 'g', 'h'], false, 0)]],
    ])('should not re-check the context once more when the length is an exact multiple (%i items, chunk %i / context %i)', (count, chunkSize, contextSize, expected) => {
      expect(windowsOf(letters(count), chunkSize, contextSize)).toEqual(expected);
    });

    it('should emit the uncovered items with the context before them when the source completes', () => {
      expect(windowsOf(letters(11), 4, 2)).toEqual([
        batch(0, 'abcd', ['a', 'b', 'c', 'd'], false, 2),
        batch(1, 'cdef', ['e', 'f'], false, 2),
        batch(2, 'efgh', ['g', 'h'], false, 2),
        batch(3, 'ghij', ['i', 'j'], false, 2),
        batch(4, 'ijk', ['k'], true),
      ]);
    });

    it('should keep no context with contextSize 0 (NeMo would keep everything)', () => {
      expect(windowsOf(letters(9), 4, 0)).toEqual([
        batch(0, 'abcd', ['a', 'b', 'c', 'd'], false, 0),
        batch(1, 'efgh', ['e', 'f', 'g', 'h'], false, 0),
        batch(2, 'i', ['i'], true),
      ]);
    });

    it('should use NeMo defaults, chunk 200 / context 50, when given no options', () => {
      const items = Array.from({ length: 351 }, (_, position) => `${position} `);
      let defaults: ChunkBatch[] = [];
      from(items).pipe(bufferChunks(), toArray()).subscribe((result) => (defaults = result));
      expect(defaults).toEqual(windowsOf(items, 200, 50));
      expect(defaults.map((window) => window.chunks.length)).toEqual([200, 150, 1]);
    });

    it('should concatenate items without separators, so sub-word tokens stay whole', () => {
      expect(windowsOf(['ass', 'isting', ' you'], 3, 1)[0]!.text).toBe('assisting you');
    });
  });

  describe('properties', () => {
    it('should produce exactly the windows of the definition, for any sizes and items', () => {
      fc.assert(
        fc.property(windowSizeArbitrary, itemsArbitrary, ({ chunkSize, contextSize }, items) => {
          expect(windowsOf(items, chunkSize, contextSize)).toEqual(windowModel(items, chunkSize, contextSize).map(asBatch));
        }),
      );
    });

    it('should give back the input when the chunks of all windows are concatenated', () => {
      fc.assert(
        fc.property(windowSizeArbitrary, itemsArbitrary, ({ chunkSize, contextSize }, items) => {
          expect(windowsOf(items, chunkSize, contextSize).flatMap((window) => window.chunks)).toEqual(items);
        }),
      );
    });

    it('should put every run of contextSize + 1 consecutive items wholly inside some window', () => {
      fc.assert(
        fc.property(windowSizeArbitrary, fc.integer({ min: 0, max: 40 }), ({ chunkSize, contextSize }, length) => {
          const items = Array.from({ length }, (_, position) => `<${position}>`);
          const texts = windowsOf(items, chunkSize, contextSize).map((window) => window.text);
          for (let start = 0; start + contextSize < length; start++) {
            const run = items.slice(start, start + contextSize + 1).join('');
            expect(texts.some((text) => text.includes(run))).toBe(true);
          }
        }),
      );
    });

    it('should serve many subscriptions from one operator instance, each with its own state', async () => {
      const operator = bufferChunks({ chunkSize: 3, contextSize: 1 });
      const [first, second] = await Promise.all([
        lastValueFrom(from(letters(7)).pipe(operator, toArray())),
        lastValueFrom(from(letters(5)).pipe(operator, toArray())),
      ]);
      expect(first).toEqual(windowModel(letters(7), 3, 1).map(asBatch));
      expect(second).toEqual(windowModel(letters(5), 3, 1).map(asBatch));
    });
  });

  describe('cancellation', () => {
    it('should stop an endless synchronous source when the consumer takes only some windows', () => {
      const endless = range(0, Number.POSITIVE_INFINITY).pipe(map(String));
      let result: ChunkBatch[] = [];
      endless.pipe(bufferChunks({ chunkSize: 3, contextSize: 1 }), take(2), toArray()).subscribe((batches) => (result = batches));
      expect(result.map((window) => window.text)).toEqual(['012', '234']);
    });
  });

  describe('bad options', () => {
    it.each([
      [{ chunkSize: 0 }, 'bufferChunks: chunkSize must be an integer of at least 1, got 0'],
      [{ chunkSize: -1 }, 'bufferChunks: chunkSize must be an integer of at least 1, got -1'],
      [{ chunkSize: 1.5 }, 'bufferChunks: chunkSize must be an integer of at least 1, got 1.5'],
      [{ chunkSize: Number.NaN }, 'bufferChunks: chunkSize must be an integer of at least 1, got NaN'],
      [{ chunkSize: '10' }, 'bufferChunks: chunkSize must be an integer of at least 1, got "10"'],
      [{ chunkSize: 10, contextSize: -1 }, 'bufferChunks: contextSize must be an integer of at least 0, got -1'],
      [{ chunkSize: 10, contextSize: 2.5 }, 'bufferChunks: contextSize must be an integer of at least 0, got 2.5'],
      [{ chunkSize: 10, contextSize: 10 }, 'bufferChunks: contextSize must be less than chunkSize, got contextSize 10 with chunkSize 10'],
      [{ chunkSize: 4, contextSize: 9 }, 'bufferChunks: contextSize must be less than chunkSize, got contextSize 9 with chunkSize 4'],
      [
        { chunkSize: 10 },
        'bufferChunks: contextSize must be less than chunkSize, got contextSize 50 (the default) with chunkSize 10; pass a smaller contextSize explicitly',
      ],
      [{ chunk_size: 10 }, "bufferChunks: unknown option 'chunk_size' (did you mean 'chunkSize'?)"],
      [{ chunkSize: 10, contextSize: 3, firstChunkSize: 3 }, 'bufferChunks: firstChunkSize must be more than contextSize and at most chunkSize (from 4 to 10), got 3'],
      [{ chunkSize: 10, contextSize: 3, firstChunkSize: 11 }, 'bufferChunks: firstChunkSize must be more than contextSize and at most chunkSize (from 4 to 10), got 11'],
      [{ chunkSize: 10, contextSize: 3, firstChunkSize: 4.5 }, 'bufferChunks: firstChunkSize must be an integer of at least 1, got 4.5'],
    ])('should throw InvalidOptionError when created with %j', (options, message) => {
      const create = () => bufferChunks(options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });

    it('should throw when created, not when subscribed', () => {
      let thrown: unknown;
      try {
        bufferChunks({ chunkSize: 0 });
      } catch (error) {
        thrown = error;
      }
      expect(InvalidOptionError.isInstance(thrown)).toBe(true);
      expect((thrown as InvalidOptionError).option).toBe('chunkSize');
      expect((thrown as InvalidOptionError).value).toBe(0);
    });

    it('should reject options that are not an object', () => {
      const create = () => bufferChunks(200 as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow('bufferChunks: options must be an object, got 200');
    });
  });
});
