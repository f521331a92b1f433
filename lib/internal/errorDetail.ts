// Internal: an error's text for verdicts and logs, whatever was thrown.

/** The text NeMo puts after "Internal error in <rail> rail: ". */
export function errorDetail(error: unknown): string {
  // By shape, not instanceof: errors may come from another realm (a vm, a worker, Node's own fetch).
  if (error !== null && typeof error === 'object' && typeof (error as Error).message === 'string') {
    const { message, name } = error as Error;
    return message || (typeof name === 'string' ? name : 'Error');
  }
  return String(error);
}
