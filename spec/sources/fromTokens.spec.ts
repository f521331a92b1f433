import { lastValueFrom, map, range, take, toArray } from 'rxjs';
import { fromTokens, guard, InvalidItemError, InvalidOptionError, keywordRail } from 'rxguardrails';
import { collect, collectNow } from '../support/collect.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('fromTokens', () => {
  it('should emit an array synchronously and complete', () => {
    expect(collectNow(fromTokens(['Hel', 'lo']))).toEqual({ items: ['Hel', 'lo'], completed: true });
  });

  it('should read a generator anew for each subscription when given a factory', () => {
    const tokens$ = fromTokens(function* () {
      yield 'a';
      yield 'b';
    });
    expect(collectNow(tokens$)).toEqual({ items: ['a', 'b'], completed: true });
    expect(collectNow(tokens$)).toEqual({ items: ['a', 'b'], completed: true });
  });

  it('should stop an endless synchronous generator once the consumer has enough, calling return()', () => {
    let returned = false;
    function* endless() {
      try {
        for (let position = 0; ; position++) yield `${position} `;
      } finally {
        returned = true;
      }
    }
    expect(collectNow(fromTokens(endless).pipe(take(3)))).toEqual({ items: ['0 ', '1 ', '2 '], completed: true });
    expect(returned).toBe(true);
  });

  it('should stream an async generator', async () => {
    async function* tokens() {
      for (const token of ['x', 'y', 'z']) {
        await tick();
        yield token;
      }
    }
    expect(await collect(fromTokens(tokens()))).toEqual({ items: ['x', 'y', 'z'], completed: true });
  });

  it('should abort the signal and call return() at once on unsubscribe, without waiting for another token', async () => {
    const events: string[] = [];
    let signal: AbortSignal | undefined;
    let pending!: () => void;
    const iterable: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          events.length === 0
            ? (events.push('next'), Promise.resolve({ value: 'first', done: false }))
            : new Promise((resolve) => (pending = () => resolve({ value: 'late', done: false }))),
        return: () => {
          events.push(`return (aborted: ${signal?.aborted})`);
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
    const received: string[] = [];
    const subscription = fromTokens((given) => {
      signal = given;
      return iterable;
    }).subscribe((token) => received.push(token));
    await tick();
    expect(received).toEqual(['first']);
    subscription.unsubscribe();
    expect(signal!.aborted).toBe(true);
    expect(events).toEqual(['next', 'return (aborted: true)']);
    pending();
    await tick();
    expect(received).toEqual(['first']);
  });

  it('should pass on what the iterator throws', async () => {
    async function* failing() {
      yield 'ok';
      throw new Error('model crashed');
    }
    const outcome = await collect(fromTokens(failing()));
    expect(outcome.items).toEqual(['ok']);
    expect(String(outcome.error)).toBe('Error: model crashed');
  });

  describe('a token that is not a string', () => {
    /** An async generator yielding 'ok', then an SDK chunk object, and noting when return() ran its finally. */
    const chunks = () => {
      const state = { returned: false };
      async function* generate() {
        try {
          yield 'ok';
          yield { text: 'sdk chunk' } as unknown as string;
          yield 'never';
        } finally {
          state.returned = true;
        }
      }
      return { state, iterable: generate() };
    };

    it('should error with InvalidItemError, after the tokens before it', async () => {
      const outcome = await collect(fromTokens(chunks().iterable));
      expect(outcome.items).toEqual(['ok']);
      expect(InvalidItemError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as Error).message).toBe(
        'fromTokens expects string items, but item 1 is an object. Map the source to text first, e.g. map((chunk) => chunk.text).',
      );
    });

    it('should call return() on the iterator', async () => {
      const { state, iterable } = chunks();
      await collect(fromTokens(iterable));
      await tick();
      expect(state.returned).toBe(true);
    });
  });

  it('should feed guard, which cancels the generation on a violation', async () => {
    let aborted = false;
    const tokens$ = fromTokens(async function* (signal) {
      signal.addEventListener('abort', () => (aborted = true));
      for (const token of ['The ', 'pass', 'word ', 'is ', 'x']) {
        await tick();
        yield token;
      }
    });
    const outcome = await collect(tokens$.pipe(guard([keywordRail(['password'])], { chunkSize: 2, contextSize: 1 })));
    expect(outcome.items).toEqual(['The ', 'pass', 'word ']);
    expect(aborted).toBe(true);
  });

  it.each([
    ['text', 'fromTokens: input must be an iterable, an async iterable or a function of an AbortSignal returning one, got "text" (a string would stream its characters; pass [text] for one token)'],
    [42, 'fromTokens: input must be an iterable, an async iterable or a function of an AbortSignal returning one, got 42'],
    [{}, 'fromTokens: input must be an iterable, an async iterable or a function of an AbortSignal returning one, got an object'],
  ])('should reject %p', (input, message) => {
    expect(() => fromTokens(input as never)).toThrow(InvalidOptionError);
    expect(() => fromTokens(input as never)).toThrow(message);
  });

  it('should pair with range for long synchronous streams', async () => {
    const tokens = await lastValueFrom(range(0, 1000).pipe(map(String), toArray()));
    expect(collectNow(fromTokens(tokens)).items).toHaveLength(1000);
  });
});
