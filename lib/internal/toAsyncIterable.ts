// Internal: an Observable consumed with `for await`. Values wait in a queue until asked for; leaving the loop
// (break, return, throw) unsubscribes at once.
import type { Observable, Subscription } from 'rxjs';

export function toAsyncIterable<T>(source$: Observable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const queue: T[] = [];
      let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
      let ended = false;
      let failure: { error: unknown } | undefined;
      let subscription: Subscription | undefined;

      const settle = () => {
        if (!waiting) return;
        const { resolve, reject } = waiting;
        if (queue.length > 0) {
          waiting = undefined;
          resolve({ value: queue.shift()!, done: false });
        } else if (failure) {
          waiting = undefined;
          reject(failure.error);
        } else if (ended) {
          waiting = undefined;
          resolve({ value: undefined, done: true });
        }
      };
      const start = () => {
        subscription ??= source$.subscribe({
          next: (value) => {
            queue.push(value);
            settle();
          },
          error: (error: unknown) => {
            failure = { error };
            settle();
          },
          complete: () => {
            ended = true;
            settle();
          },
        });
      };

      return {
        next: () => {
          start();
          if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
          if (failure) {
            const { error } = failure;
            failure = undefined;
            ended = true;
            return Promise.reject(error);
          }
          if (ended) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => (waiting = { resolve, reject }));
        },
        return: () => {
          ended = true;
          queue.length = 0;
          subscription?.unsubscribe();
          waiting?.resolve({ value: undefined, done: true });
          waiting = undefined;
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
