import type { Observable } from 'rxjs';

export interface Outcome {
  items: string[];
  error?: unknown;
  completed: boolean;
}

/** Subscribes and gathers everything: the items, then the error or the completion. */
export function collect(source$: Observable<string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const items: string[] = [];
    source$.subscribe({
      next: (item) => items.push(item),
      error: (error: unknown) => resolve({ items, error, completed: false }),
      complete: () => resolve({ items, completed: true }),
    });
  });
}

/** The same, for a pipeline that settles synchronously (synchronous source and rails). */
export function collectNow(source$: Observable<string>): Outcome {
  const items: string[] = [];
  let settled: Outcome | undefined;
  source$.subscribe({
    next: (item) => items.push(item),
    error: (error: unknown) => (settled = { items, error, completed: false }),
    complete: () => (settled = { items, completed: true }),
  });
  if (!settled) throw new Error('collectNow: the pipeline did not settle synchronously');
  return settled;
}
