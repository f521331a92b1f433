import type { Demand } from '../core/types.js';

/**
 * A {@link Demand} its owner pauses and resumes: what a consumer gives a source (`SourceOptions.demand`,
 * `LLMRails.stream(messages, { demand })`) to stop it reading while the consumer is behind, such as a server whose
 * client has not taken the last frames yet.
 *
 * ## Example
 * ```ts
 * import { DemandGate, LLMRails } from 'rxguardrails';
 *
 * declare const rails: LLMRails;
 * declare const response: import('node:http').ServerResponse;
 * const demand = new DemandGate();
 * response.on('drain', () => demand.resume());
 * rails.stream([{ role: 'user', content: 'Hi!' }], { demand }).subscribe((token) => {
 *   if (!response.write(token)) demand.pause();
 * });
 * ```
 */
export class DemandGate implements Demand {
  private waiting: Promise<void> | undefined;
  private open: (() => void) | undefined;

  /** Whether sources are told to wait. */
  get paused(): boolean {
    return this.waiting !== undefined;
  }

  /** Sources wait from their next token on, until {@link resume}. Pausing a paused gate changes nothing. */
  pause(): void {
    if (this.waiting) return;
    this.waiting = new Promise<void>((resolve) => {
      this.open = resolve;
    });
  }

  /** Sources read on. Call it when the consumer stops for good, too, so that nothing waits on it. */
  resume(): void {
    const open = this.open;
    this.waiting = undefined;
    this.open = undefined;
    open?.();
  }

  ready(): PromiseLike<void> | undefined {
    return this.waiting;
  }
}
