// What the command line reads and writes, in one object: the process's streams in real use, streams of their own
// in tests (main(argv, io) runs in-process).
import type { Readable, Writable } from 'node:stream';

/** What the CLI reads and writes; tests give their own. */
export interface CliIO {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where Ctrl-C is heard: the process (signals) in real use. */
  readonly signals?: { on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown; off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown };
  /**
   * Where a promise rejected with no one to catch it is heard: the process in real use. The server keeps serving
   * through one (a custom rail's stray promise must not take every stream down), and says so on stderr.
   */
  readonly strays?: {
    on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
    off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  };
}
