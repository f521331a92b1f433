// The hand-written operators keep RxJS's guarantee (its OperatorSubscriber's): an exception thrown while an operator
// handles a value or the completion becomes the error notification of the output, and never escapes into the
// producer that called next() or complete(), here a Subject whose caller would otherwise catch someone else's error.
import { Subject } from 'rxjs';
import { blockOnViolation, type CheckedBatch, checkRail, type ChunkBatch, defineRail, guard, RailViolationError } from 'rxguardrails';

interface Outcome {
  values: unknown[];
  error?: unknown;
  completed: boolean;
}

function observe<T>(subject: Subject<T>, operator: (source: Subject<T>) => { subscribe: Subject<unknown>['subscribe'] }): Outcome {
  const outcome: Outcome = { values: [], completed: false };
  operator(subject).subscribe({
    next: (value) => outcome.values.push(value),
    error: (error: unknown) => (outcome.error = error),
    complete: () => (outcome.completed = true),
  });
  return outcome;
}

const broken = new Error('unreadable');

/** What failed, for a rail failure: the error of its internal_error verdict. */
const failedWith = (error: unknown): unknown => (RailViolationError.isInstance(error) && error.info.verdict.kind === 'internal_error' ? error.info.verdict.error : error);

/** A rail whose answer throws when read: the check itself returns normally (guard makes it an internal_error verdict). */
const treacherous = defineRail('treacherous', () => ({
  get allowed(): boolean {
    throw broken;
  },
}));

describe('the hand-written operators', () => {
  it('should turn an exception while blockOnViolation handles a window into its error, not the producer\'s', () => {
    const windows = new Subject<CheckedBatch>();
    const outcome = observe(windows, (source) => source.pipe(blockOnViolation()));
    const hostile = {
      index: 0,
      text: 'x',
      final: false,
      overlap: 0,
      verdicts: [],
      get chunks(): readonly string[] {
        throw broken;
      },
    };
    expect(() => windows.next(hostile)).not.toThrow();
    expect(outcome).toEqual({ values: [], error: broken, completed: false });
    expect(windows.observed).toBe(false);
  });

  it('should turn an exception while checkRail handles a window into its error, not the producer\'s', () => {
    const windows = new Subject<ChunkBatch>();
    const outcome = observe(windows, (source) => source.pipe(checkRail([defineRail('ok', () => true)])));
    const hostile = {
      text: 'x',
      chunks: ['x'],
      final: false,
      overlap: 0,
      get index(): number {
        throw broken;
      },
    };
    expect(() => windows.next(hostile)).not.toThrow();
    expect(outcome).toEqual({ values: [], error: broken, completed: false });
    expect(windows.observed).toBe(false);
  });

  it.each([true, false])('should turn an exception while guard (streamFirst %s) checks a window into its error (an internal_error verdict)', (streamFirst) => {
    const tokens = new Subject<string>();
    const outcome = observe(tokens, (source) => source.pipe(guard([treacherous], { chunkSize: 2, contextSize: 1, streamFirst })));
    tokens.next('a');
    expect(() => tokens.next('b')).not.toThrow();
    expect(failedWith(outcome.error)).toBe(broken);
    expect(outcome.completed).toBe(false);
    expect(tokens.observed).toBe(false);
  });

  it('should turn an exception while guard checks the final window on completion into its error', () => {
    const tokens = new Subject<string>();
    const outcome = observe(tokens, (source) => source.pipe(guard([treacherous], { chunkSize: 4, contextSize: 1 })));
    tokens.next('a');
    expect(() => tokens.complete()).not.toThrow();
    expect(outcome).toEqual({ values: ['a'], error: expect.any(RailViolationError), completed: false });
    expect(failedWith(outcome.error)).toBe(broken);
  });
});
