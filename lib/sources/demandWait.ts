// Internal: a source's side of its consumer's Demand, shared by the provider sources and fromTokens.
import type { Demand } from '../core/types.js';

/**
 * What a source awaits after each token: nothing while the demand says read on, else the demand's promise, settled
 * either way (a consumer's failure is its own to report), or the source's end, whichever comes first: a demand never
 * resumed holds nothing.
 */
export class DemandWait {
  private ended = false;
  private endWait: (() => void) | undefined;
  private endOfSource: Promise<void> | undefined;

  constructor(private readonly demand: Demand | undefined) {}

  /** After a token: undefined to read on, else the wait. */
  next(): Promise<unknown> | undefined {
    const wait = this.ended ? undefined : this.demand?.ready();
    if (!wait) return undefined;
    this.endOfSource ??= new Promise<void>((resolve) => (this.endWait = resolve));
    return Promise.race([Promise.resolve(wait).catch(() => undefined), this.endOfSource]);
  }

  /** The source ended (its teardown): a wait in progress ends, and none starts. */
  end(): void {
    this.ended = true;
    this.endWait?.();
  }
}
