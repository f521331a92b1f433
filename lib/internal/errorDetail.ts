// Internal: an error's text for verdicts and logs, whatever was thrown.

/** The text NeMo puts after "Internal error in <rail> rail: ". */
export function errorDetail(error: unknown): string {
  try {
    // By shape, not instanceof: errors may come from another realm (a vm, a worker, Node's own fetch).
    if (error !== null && typeof error === 'object') {
      const { message, name } = error as Error;
      if (typeof message === 'string') return message || (typeof name === 'string' ? name : 'Error');
    }
    return String(error);
  } catch {
    // A Proxy whose traps throw, an object without a way to become a string: still a failure to report.
    return 'a thrown value that cannot be described';
  }
}
