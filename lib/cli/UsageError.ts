// The CLI's own error: a mistake the user can fix, which main() reports in one line.

/** A mistake the user can fix: reported in one line, exit code 1 (2 for command-line usage). */
export class UsageError extends Error {
  override name = 'UsageError';

  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
