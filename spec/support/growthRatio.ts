// How a rail's or parser's time grows with its input, for the specs that hold them to linear time: a ratio measured
// in one run, not an absolute time, so a slow or busy machine does not fail it.

/** The ratio the specs hold linear code to: about 4 for a linear `run`, about 16 for a quadratic one. */
export const LINEAR_BOUND = 9;

/**
 * The time `run` takes on `large` over the time it takes on `small`, each the fastest of `runs` runs (the one least
 * disturbed by garbage collection and the other test workers), after one warm-up on `small`. For `large` four times
 * `small`, a linear `run` comes to about 4 and a quadratic one to about 16. A ratio at or above {@link LINEAR_BOUND}
 * is measured again, up to `attempts` times in all, and the smallest kept: a busy machine may disturb one
 * measurement (a spec failed so under three concurrent test runs), while a quadratic `run` stays near 16 every time.
 */
export function growthRatio(run: (text: string) => unknown, small: string, large: string, runs = 5, attempts = 3): number {
  const time = (text: string) => {
    const durations: number[] = [];
    for (let index = 0; index < runs; index++) {
      const started = performance.now();
      run(text);
      durations.push(performance.now() - started);
    }
    return Math.min(...durations);
  };
  time(small);
  let smallest = Infinity;
  for (let attempt = 0; attempt < attempts && smallest >= LINEAR_BOUND; attempt++) {
    smallest = Math.min(smallest, time(large) / Math.max(time(small), 0.05));
  }
  return smallest;
}
