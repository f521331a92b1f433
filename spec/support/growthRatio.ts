// How a rail's or parser's time grows with its input, for the specs that hold them to linear time: a ratio measured
// in one run, not an absolute time, so a slow or busy machine does not fail it.

/**
 * The time `run` takes on `large` over the time it takes on `small`, each the fastest of `runs` runs (the one least
 * disturbed by garbage collection and the other test workers), after one warm-up on `small`. For `large` four times
 * `small`, a linear `run` comes to about 4 and a quadratic one to about 16.
 */
export function growthRatio(run: (text: string) => unknown, small: string, large: string, runs = 5): number {
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
  return time(large) / Math.max(time(small), 0.05);
}
