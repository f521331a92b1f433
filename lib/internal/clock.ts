// Internal: a monotonic clock for durations, and epoch milliseconds for its readings (sub-millisecond where the
// platform allows), shared by everything that times LLM calls and rail checks.
export function now(): number {
  return typeof performance === 'undefined' ? Date.now() : performance.now();
}

export function epochMilliseconds(reading: number): number {
  return typeof performance === 'undefined' ? reading : performance.timeOrigin + reading;
}
