import { GuardrailError, InvalidItemError, InvalidOptionError, RailViolationError, type RailVerdict } from 'rxguardrails';

const verdict: RailVerdict = { rail: 'self check output', allowed: false, kind: 'violation', reason: 'the judge said yes' };

describe('errors', () => {
  describe('GuardrailError.isInstance', () => {
    const violation = new RailViolationError({ rail: 'r', batchIndex: 0, verdict });
    const option = new InvalidOptionError('chunkSize', 0, 'bad');
    const item = new InvalidItemError('guard', 3, 42);

    it.each<[string, unknown, boolean, boolean, boolean, boolean]>([
      ['a RailViolationError', violation, true, true, false, false],
      ['an InvalidOptionError', option, true, false, true, false],
      ['an InvalidItemError', item, true, false, false, true],
      ['a plain Error', new Error('plain'), false, false, false, false],
      ['undefined', undefined, false, false, false, false],
      ['a string', 'Blocked', false, false, false, false],
    ])('should tell whether %s is a GuardrailError (%s), a RailViolationError (%s), an InvalidOptionError (%s), an InvalidItemError (%s)', (_, value, guardrail, railViolation, invalidOption, invalidItem) => {
      expect([
        GuardrailError.isInstance(value),
        RailViolationError.isInstance(value),
        InvalidOptionError.isInstance(value),
        InvalidItemError.isInstance(value),
      ]).toEqual([guardrail, railViolation, invalidOption, invalidItem]);
    });

    it('should recognise an error from another copy of the package by its registered marker', () => {
      // What an instance from a second copy (CommonJS beside ESM, two versions) carries: Symbol.for markers.
      const foreign = Object.assign(new Error('Blocked by x rails.'), {
        [Symbol.for('rxguardrails.error.GuardrailError')]: true,
        [Symbol.for('rxguardrails.error.RailViolationError')]: true,
      });
      expect(foreign instanceof RailViolationError).toBe(false);
      expect(RailViolationError.isInstance(foreign)).toBe(true);
      expect(GuardrailError.isInstance(foreign)).toBe(true);
      expect(InvalidOptionError.isInstance(foreign)).toBe(false);
    });

    it('should not expose the markers as enumerable properties', () => {
      expect(Object.keys(new InvalidOptionError('x', 1, 'm'))).toEqual(['name', 'option', 'value']);
    });
  });

  describe('RailViolationError', () => {
    it('should carry its name, message and info', () => {
      const error = new RailViolationError({ rail: 'self check output', batchIndex: 2, verdict });
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('RailViolationError');
      expect(error.message).toBe('Blocked by self check output rails.');
      expect(error.info).toEqual({ rail: 'self check output', batchIndex: 2, verdict });
      expect(error.cause).toBeUndefined();
      expect(String(error)).toBe('RailViolationError: Blocked by self check output rails.');
    });

    it("should serialise to NeMo's payload with JSON.stringify", () => {
      const error = new RailViolationError({ rail: 'keyword', batchIndex: 0, verdict: { ...verdict, rail: 'keyword' } });
      expect(JSON.parse(JSON.stringify(error))).toEqual({
        error: { message: 'Blocked by keyword rails.', type: 'guardrails_violation', param: 'keyword', code: 'content_blocked' },
      });
    });

    describe('for a rail that failed (kind internal_error)', () => {
      const cause = new Error('ETIMEDOUT');
      const failed: RailVerdict = { rail: 'moderation', allowed: false, kind: 'internal_error', reason: 'timed out after 500 ms', error: cause };
      const error = new RailViolationError({ rail: 'moderation', batchIndex: 1, verdict: failed });

      it("should say 'Internal error in <rail> rail' with the reason", () => {
        expect(error.message).toBe('Internal error in moderation rail: timed out after 500 ms');
      });

      it("should keep the rail's error as its cause", () => {
        expect(error.cause).toBe(cause);
      });

      it("should give NeMo's internal error chunk", () => {
        expect(error.toChunk()).toBe(
          '{"error": {"message": "Internal error in moderation rail: timed out after 500 ms", "type": "internal_error", "param": "moderation", "code": "rail_execution_failure"}}',
        );
      });
    });

    it('should escape control characters and non-ASCII text in the chunk as Python does', () => {
      const rail = 'tab\there\nnew\u007fdel "q" \\ é 日本';
      const error = new RailViolationError({ rail, batchIndex: 0, verdict: { ...verdict, rail } });
      const escaped = 'tab\\there\\nnew\\u007fdel \\"q\\" \\\\ \\u00e9 \\u65e5\\u672c';
      expect(error.toChunk()).toBe(
        `{"error": {"message": "Blocked by ${escaped} rails.", "type": "guardrails_violation", "param": "${escaped}", "code": "content_blocked"}}`,
      );
    });
  });

  describe('InvalidOptionError', () => {
    it('should name the option and keep the value', () => {
      const error = new InvalidOptionError('chunkSize', -1, 'bufferChunks: chunkSize must be an integer of at least 1, got -1');
      expect(error.name).toBe('InvalidOptionError');
      expect(error.option).toBe('chunkSize');
      expect(error.value).toBe(-1);
    });
  });

  describe('InvalidItemError', () => {
    it.each([
      [undefined, 'undefined'],
      [null, 'null'],
      [7, 'a number (7)'],
      [true, 'a boolean (true)'],
      [{ text: 'x' }, 'an object'],
      [['x'], 'an array'],
      [Symbol('s'), 'a symbol'],
    ])('should say what the item %p was', (item, described) => {
      const error = new InvalidItemError('bufferChunks', 4, item);
      expect(error.message).toBe(
        `bufferChunks expects string items, but item 4 is ${described}. Map the source to text first, e.g. map((chunk) => chunk.text).`,
      );
      expect(error.index).toBe(4);
      expect(error.item).toBe(item);
    });
  });
});
