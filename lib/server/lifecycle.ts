// Internal: the answers a server has in flight, so a shutdown can let them finish and then end the rest cleanly.

/** One answer in flight: it can be ended early, with a reason the client is told. */
export interface InFlight {
  /** Ends the answer now: an SSE stream gets an error frame and `data: [DONE]`, a JSON answer a 503. */
  stop(reason: string): void;
}

/**
 * Tracks the answers in flight. `drain(graceMs)` refuses new ones, waits up to `graceMs` for those in flight to
 * end by themselves, then stops the rest; it resolves once none is left.
 */
export class Lifecycle {
  private readonly inFlight = new Set<InFlight>();
  private idle: (() => void) | undefined;
  private draining = false;

  /** Whether a shutdown has begun: new requests are refused, and responses close their connections. */
  get shuttingDown(): boolean {
    return this.draining;
  }

  /** Headers every response carries: `Connection: close` once a shutdown has begun, so no connection outlives it. */
  responseHeaders(): Record<string, string> {
    return this.draining ? { connection: 'close' } : {};
  }

  /** How many answers are in flight. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Registers an answer; call the returned function when it has ended, however it ended. */
  track(answer: InFlight): () => void {
    this.inFlight.add(answer);
    return () => {
      this.inFlight.delete(answer);
      if (this.inFlight.size === 0) this.idle?.();
    };
  }

  /** Refuses new answers, gives those in flight `graceMs` to end, then stops the rest. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.inFlight.size === 0) return;
    const allEnded = new Promise<void>((resolve) => (this.idle = resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)));
    if ((await Promise.race([allEnded, graceOver])) === 'grace over') {
      for (const answer of [...this.inFlight]) answer.stop(`The server is shutting down; the answer was stopped after ${graceMs} ms.`);
      await allEnded;
    }
    clearTimeout(timer);
  }
}
