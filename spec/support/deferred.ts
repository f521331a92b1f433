// A Promise the test settles itself, for rails and models whose answers must arrive in an order the test chooses
// (instead of racing timers of different lengths).

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

/**
 * Resolves once every Promise callback already queued has run (and the ones those queue): setImmediate runs after
 * the microtask queue is empty. Not a sleep: no time has to pass, so it cannot race anything.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
