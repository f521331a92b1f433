// Windows checked concurrently (the `concurrency` option of checkRail and guard): verdicts and text still come out
// strictly in order, no more than `concurrency` checks run at once, and the first blocked window stops everything,
// aborting the checks of the windows after it. Timing in virtual time (TestScheduler), never on the wall clock.
import fc from 'fast-check';
import { from, interval, lastValueFrom, map, take, timer, toArray } from 'rxjs';
import { bufferChunks, checkRail, type ChunkBatch, defineRail, guard, keywordRail, LLMRails, type RailContext, RailsConfig, RailViolationError } from 'rxguardrails';
import { createTestScheduler, fakeRail } from 'rxguardrails/testing';
import { collect, collectNow } from '../support/collect.js';
import { deferred, type Deferred, settle } from '../support/deferred.js';
import { growingSizeArbitrary } from '../support/windowModel.js';

/** A rail whose answers the test gives, per window, in any order; it records how many checks ran at once. */
function controlledRail(blocks: (text: string) => boolean) {
  const pending = new Map<number, Deferred<boolean>>();
  const aborted: number[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const rail = defineRail('controlled', (text: string, { batch, signal }: RailContext) => {
    const answer = deferred<boolean>();
    pending.set(batch.index, answer);
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    signal.addEventListener('abort', () => aborted.push(batch.index), { once: true });
    return answer.promise.then(
      () => !blocks(text),
      () => true,
    ).finally(() => running--);
  });
  return {
    rail,
    pending,
    aborted,
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

describe('concurrency', () => {
  it('should report verdicts in order whatever order the checks end in, never more than concurrency at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom('a', 'b', 'x '), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
        async (concurrency, texts, order) => {
          const controlled = controlledRail((text) => text.includes('x'));
          const windows: ChunkBatch[] = texts.map((text, index) => ({ index, text, chunks: [text], final: false, overlap: 0 }));
          const done = lastValueFrom(from(windows).pipe(checkRail([controlled.rail], { concurrency }), toArray()));
          // Answer the checks in a random order, a few at a time, as they start.
          for (let answered = 0; answered < windows.length; answered++) {
            await settle();
            const started = [...controlled.pending.keys()];
            const pick = started[order[answered]! % started.length]!;
            controlled.pending.get(pick)!.resolve(true);
            controlled.pending.delete(pick);
          }
          const reported = await done;
          expect(reported.map((batch) => batch.index)).toEqual(windows.map((window) => window.index));
          expect(reported.map((batch) => batch.blocked !== undefined)).toEqual(texts.map((text) => text.includes('x')));
          expect(controlled.mostAtOnce).toBeLessThanOrEqual(concurrency);
          if (windows.length >= concurrency) expect(controlled.mostAtOnce).toBe(concurrency);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('should release with guard exactly what one window at a time releases, stopping at the first block, for synchronous rails', () => {
    fc.assert(
      fc.property(
        growingSizeArbitrary,
        fc.array(fc.constantFrom('a', 'b', 'x', 'ab', ''), { maxLength: 40 }),
        fc.integer({ min: 2, max: 5 }),
        fc.boolean(),
        (size, items, concurrency, streamFirst) => {
          const rails = [keywordRail(['bx'])];
          const one = collectNow(from(items).pipe(guard(rails, { ...size, streamFirst })));
          expect(collectNow(from(items).pipe(guard(rails, { ...size, streamFirst, concurrency })))).toEqual(one);
        },
      ),
    );
  });

  it('should stop at the first blocked window even when a later window answered first, aborting the checks after it', async () => {
    const controlled = controlledRail((text) => text.includes('secret'));
    const words = ['one ', 'two ', 'secret ', 'four ', 'five ', 'six ', 'seven '];
    const done = collect(from(words).pipe(guard([controlled.rail], { chunkSize: 2, contextSize: 1, firstChunkSize: 2, streamFirst: false, concurrency: 3 })));
    await settle();
    // Windows [one two], [two secret], [secret four] are being checked; the third answers first.
    expect([...controlled.pending.keys()]).toEqual([0, 1, 2]);
    controlled.pending.get(2)!.resolve(true);
    await settle();
    controlled.pending.get(0)!.resolve(true);
    await settle();
    controlled.pending.get(1)!.resolve(true);
    const outcome = await done;
    expect(outcome.items).toEqual(['one ']);
    expect((outcome.error as RailViolationError).info.batchIndex).toBe(1);
    // The windows started as [secret four] and [one two] answered ([four five], [five six]) were aborted when
    // [two secret] blocked; [secret four]'s pass was never reported.
    expect(controlled.aborted).toEqual([3, 4]);
  });

  it('should let a judge slower than the stream keep up: 3 windows at once finish with the model, not 2.7 times later', () => {
    // One item per virtual ms; windows every 3 items (chunkSize 4, contextSize 1); a judge answering in 8 ms.
    const items = Array.from({ length: 60 }, (_, position) => `w${position} `);
    const judge = defineRail('judge', (text: string) => timer(8).pipe(map(() => !text.includes('never'))));
    const finishedAt = (concurrency: number): number => {
      const scheduler = createTestScheduler();
      let at = Number.NaN;
      scheduler.run(({ flush }) => {
        interval(1)
          .pipe(
            take(items.length),
            map((position) => items[position]!),
            guard([judge], { chunkSize: 4, contextSize: 1, firstChunkSize: 4, streamFirst: false, concurrency }),
          )
          .subscribe({ complete: () => (at = scheduler.now()) });
        flush();
      });
      return at;
    };
    const model = items.length;
    const one = finishedAt(1);
    const three = finishedAt(3);
    expect(one / model).toBeGreaterThan(2.5);
    expect(three).toBeLessThanOrEqual(model + 8 + 1);
  });

  it('should take rails.output.streaming.concurrency from a config', async () => {
    const controlled = controlledRail(() => false);
    const config = RailsConfig.fromContent({
      models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['one two three four five six seven eight'] } }],
      rails: { output: { flows: ['controlled'], streaming: { enabled: true, chunk_size: 2, context_size: 1, first_chunk_size: 2, stream_first: false, concurrency: 3 } } },
    });
    const done = collect(new LLMRails(config, { rails: { controlled: controlled.rail } }).stream([{ role: 'user', content: 'Count' }]));
    for (let turn = 0; turn < 50 && controlled.pending.size < 3; turn++) await settle();
    expect(controlled.mostAtOnce).toBe(3);
    for (let answered = 0; answered < 16 && controlled.pending.size > 0; answered++) {
      for (const [index, answer] of controlled.pending) {
        controlled.pending.delete(index);
        answer.resolve(true);
      }
      await settle();
    }
    expect((await done).items.join('')).toBe('one two three four five six seven eight');
    expect(controlled.mostAtOnce).toBe(3);
    expect(() => RailsConfig.fromContent({ models: [], rails: { output: { streaming: { concurrency: 0 } } } }, { file: 'config.yml' })).toThrow(
      'config.yml: rails.output.streaming.concurrency: must be at least 1',
    );
  });

  it.each([0, 1.5, '2'])('should refuse concurrency %j', (concurrency) => {
    expect(() => checkRail([keywordRail(['x'])], { concurrency } as never)).toThrow(`checkRail: concurrency must be an integer of at least 1, got ${JSON.stringify(concurrency)}`);
    expect(() => guard([keywordRail(['x'])], { concurrency } as never)).toThrow('guard: concurrency must be an integer of at least 1');
  });

  it('should check the same windows as bufferChunks cuts, each once', async () => {
    const rail = fakeRail({ respond: 'promise', delayMs: 1 });
    const items = Array.from({ length: 20 }, (_, position) => `${position} `);
    const reported = await lastValueFrom(from(items).pipe(bufferChunks({ chunkSize: 4, contextSize: 1 }), checkRail([rail], { concurrency: 4 }), toArray()));
    expect(reported.map((batch) => batch.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(rail.texts).toEqual(reported.map((batch) => batch.text));
  });
});
