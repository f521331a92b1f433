import { from, lastValueFrom, mergeMap, of, toArray, catchError } from 'rxjs';
import { blockOnViolation, type CheckedBatch, InvalidOptionError, RailViolationError, type RailVerdict } from 'rxguardrails';
import { createTestScheduler } from 'rxguardrails/testing';

const violation: RailVerdict = { rail: 'self check output', allowed: false, kind: 'violation', reason: 'judge said yes' };
const failure: RailVerdict = { rail: 'moderation', allowed: false, kind: 'internal_error', reason: 'HTTP 503', error: new Error('HTTP 503') };

/** A checked window of chunkSize 3 / contextSize 1, as bufferChunks and checkRail would produce it. */
const window = (index: number, chunks: string[], options: { final?: boolean; blocked?: RailVerdict } = {}): CheckedBatch => ({
  index,
  text: chunks.join(''),
  chunks,
  final: options.final ?? false,
  overlap: options.final ? 0 : 1,
  verdicts: options.blocked ? [options.blocked] : [],
  blocked: options.blocked,
});

describe('blockOnViolation', () => {
  // Windows of the items a b c d e f g: [a b c], [c d e] (new d e), [e f g] (new f g).
  const w0 = window(0, ['a', 'b', 'c']);
  const w1 = window(1, ['d', 'e']);
  const w1blocked = window(1, ['d', 'e'], { blocked: violation });
  const w2final = window(2, ['f', 'g'], { final: true });

  describe('marbles', () => {
    it('should not emit and not complete when the source never emits', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<CheckedBatch>('-').pipe(blockOnViolation())).toBe('-');
      });
    });

    it('should complete when the source is empty', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<CheckedBatch>('|').pipe(blockOnViolation())).toBe('|');
      });
    });

    // A group "(ab)" takes as many frames as it has characters, so the sources leave room for them.
    it('should release a passed window but hold back the items the next window checks again', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-x----|', { x: w0 });
        // a and b are settled when [a b c] passes; c waits for the next window, or for completion.
        const expected = '   -(ab)-(c|)';
        expectObservable(source.pipe(blockOnViolation())).toBe(expected);
      });
    });

    it('should release each item once all the windows holding it passed', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1, z: w2final });
        const sourceSubs = ' ^------------!';
        // [a b c] passes: a b. [c d e] passes: c d. The final [e f g] passes: e f g, and it completes.
        const expected = '   -(ab)--(cd)--(efg|)';
        expectObservable(source.pipe(blockOnViolation())).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should error with RailViolationError and unsubscribe the source at the first blocked window', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1blocked, z: w2final });
        const sourceSubs = ' ^------!';
        const expected = '   -(ab)--#';
        expectObservable(source.pipe(blockOnViolation())).toBe(
          expected,
          undefined,
          new RailViolationError({ rail: 'self check output', batchIndex: 1, verdict: violation }),
        );
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it("should emit NeMo's error payload and complete in mode 'chunk'", () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1blocked, z: w2final });
        const sourceSubs = ' ^------!';
        const expected = '   -(ab)--(p|)';
        expectObservable(source.pipe(blockOnViolation({ mode: 'chunk' }))).toBe(expected, {
          a: 'a',
          b: 'b',
          p: '{"error": {"message": "Blocked by self check output rails.", "type": "guardrails_violation", "param": "self check output", "code": "content_blocked"}}',
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it("should emit the replacement and complete in mode 'replace'", () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1blocked, z: w2final });
        const expected = '   -(ab)--(r|)';
        expectObservable(source.pipe(blockOnViolation({ mode: 'replace', replacement: 'Let us talk about something else.' }))).toBe(expected, {
          a: 'a',
          b: 'b',
          r: 'Let us talk about something else.',
        });
      });
    });

    it('should pass a source error through and drop the items held back', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-x-----#', { x: w0 }, new Error('stream cut'));
        const expected = '   -(ab)--#';
        expectObservable(source.pipe(blockOnViolation())).toBe(expected, undefined, new Error('stream cut'));
      });
    });

    it('should keep releasing for a never-ending source', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-x-----y-', { x: w0, y: w1 });
        const expected = '   -(ab)--(cd)-';
        expectObservable(source.pipe(blockOnViolation())).toBe(expected);
      });
    });

    it('should unsubscribe the source on early unsubscription', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1, z: w2final });
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const expected = '   -(ab)';
        expectObservable(source.pipe(blockOnViolation()), unsub).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('should not break unsubscription chains when the result is unsubscribed explicitly', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-x-----y-----(z|)', { x: w0, y: w1, z: w2final });
        const sourceSubs = ' ^---!';
        const unsub = '      ----!';
        const result = source.pipe(
          mergeMap((value) => of(value)),
          blockOnViolation(),
          mergeMap((value) => of(value)),
        );
        expectObservable(result, unsub).toBe('-(ab)');
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });
  });

  describe('payloads', () => {
    it("should carry the rail, the window and the verdict, and NeMo's payload, on the error", async () => {
      const error = await lastValueFrom(from([w0, w1blocked]).pipe(blockOnViolation(), toArray(), catchError((caught: unknown) => of(caught))));
      expect(RailViolationError.isInstance(error)).toBe(true);
      const violationError = error as RailViolationError;
      expect(violationError.message).toBe('Blocked by self check output rails.');
      expect(violationError.info).toEqual({ rail: 'self check output', batchIndex: 1, verdict: violation });
      expect(violationError.toJSON()).toEqual({
        error: { message: 'Blocked by self check output rails.', type: 'guardrails_violation', param: 'self check output', code: 'content_blocked' },
      });
    });

    it("should emit NeMo's internal error payload in mode 'chunk' for a rail that failed closed", async () => {
      const chunk = await lastValueFrom(of(window(0, ['a'], { blocked: failure })).pipe(blockOnViolation({ mode: 'chunk' })));
      expect(chunk).toBe(
        '{"error": {"message": "Internal error in moderation rail: HTTP 503", "type": "internal_error", "param": "moderation", "code": "rail_execution_failure"}}',
      );
    });

    it('should error with an internal error message and the cause for a rail that failed closed', async () => {
      const error = await lastValueFrom(of(window(0, ['a'], { blocked: failure })).pipe(blockOnViolation(), catchError((caught: unknown) => of(caught))));
      expect(RailViolationError.isInstance(error)).toBe(true);
      expect((error as RailViolationError).message).toBe('Internal error in moderation rail: HTTP 503');
      expect((error as RailViolationError).cause).toBe(failure.error);
    });

    it('should escape the payload as Python json.dumps does (ensure_ascii)', async () => {
      const verdict: RailVerdict = { rail: 'contrôle "qualité" 😀', allowed: false, kind: 'violation' };
      const chunk = await lastValueFrom(of(window(0, ['a'], { blocked: verdict })).pipe(blockOnViolation({ mode: 'chunk' })));
      expect(chunk).toBe(
        '{"error": {"message": "Blocked by contr\\u00f4le \\"qualit\\u00e9\\" \\ud83d\\ude00 rails.", "type": "guardrails_violation", "param": "contr\\u00f4le \\"qualit\\u00e9\\" \\ud83d\\ude00", "code": "content_blocked"}}',
      );
      expect(JSON.parse(chunk)).toEqual((new RailViolationError({ rail: verdict.rail, batchIndex: 0, verdict })).toJSON());
    });

    it("should use NeMo's refusal text by default in mode 'replace'", async () => {
      const text = await lastValueFrom(of(window(0, ['a'], { blocked: violation })).pipe(blockOnViolation({ mode: 'replace' })));
      expect(text).toBe("I'm sorry, I can't respond to that.");
    });
  });

  describe('bad options', () => {
    it.each([
      [{ mode: 'stop' }, "blockOnViolation: mode must be one of 'error', 'chunk', 'replace', got \"stop\""],
      [{ mode: 'replace', replacement: 42 }, 'blockOnViolation: replacement must be a string, got 42'],
      [{ replacement: 'no' }, "blockOnViolation: replacement is only used with mode 'replace' (mode is 'error'); set mode: 'replace' or drop it"],
      [{ on_violation: 'chunk' }, "blockOnViolation: unknown option 'on_violation'; known options: mode, replacement"],
    ])('should throw InvalidOptionError for %j', (options, message) => {
      const create = () => blockOnViolation(options as never);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });
  });
});
