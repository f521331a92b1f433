// Internal: blockOnViolation's hot path, and how a violation is signalled (shared with guard's streamFirst path).
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { CheckedBatch } from '../../core/types.js';
import { RailViolationError } from '../../errors/RailViolationError.js';
import { hasRewrites, RewriteLedger } from './RewriteLedger.js';
import type { ViolationSettings } from './settings.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';

/** blockOnViolation with validated settings. Hand-written: it releases tokens one by one, on the hot path. */
export function releaseOrBlock(settings: ViolationSettings): OperatorFunction<CheckedBatch, string> {
  return (source) => new Observable<string>((destination) => new SettlingSubscriber(destination, settings).subscribeTo(source));
}

class SettlingSubscriber extends UpstreamSubscriber<CheckedBatch, string> {
  /** Items of passed windows that the next window checks again. */
  private held: readonly string[] = [];
  /**
   * Windows (and the completion) that came in while items were being released: a consumer that pushes into the
   * source from inside its `next` (RxJS's re-entrancy case, its issue #2062) with synchronous rails. They are
   * settled, in order, once the release in progress is over, so items go out once each and in order.
   */
  private readonly queued: CheckedBatch[] = [];
  private settling = false;
  private completing = false;
  /** From the first window a rail rewrote, the release goes through this (see RewriteLedger). */
  private ledger: RewriteLedger | undefined;

  constructor(
    destination: Subscriber<string>,
    private readonly settings: ViolationSettings,
  ) {
    super(destination);
  }

  next(batch: CheckedBatch): void {
    if (this.closed) return;
    try {
      if (this.settling) {
        this.queued.push(batch);
        return;
      }
      this.settling = true;
      this.settle(batch);
      // Not `this.closed`: a completion that came in re-entrantly has closed this subscriber, not the destination.
      while (this.queued.length > 0 && !this.destination.closed) this.settle(this.queued.shift()!);
      this.settling = false;
      if (this.completing) this.finish();
    } catch (error) {
      this.settling = false;
      this.error(error);
    }
  }

  private settle(batch: CheckedBatch): void {
    if (batch.blocked) {
      signalViolation(this.destination, batch, this.settings);
      return;
    }
    if (this.ledger !== undefined || hasRewrites(batch.verdicts)) {
      this.ledger ??= new RewriteLedger(this.held);
      for (const text of this.ledger.settle(batch)) {
        if (this.destination.closed) return;
        this.destination.next(text);
      }
      return;
    }
    // Everything held and new is released except the last `overlap` items, oldest first.
    const { held, destination } = this;
    const { chunks } = batch;
    let release = held.length + chunks.length - Math.min(batch.overlap, held.length + chunks.length);
    let position = 0;
    for (; position < held.length && release > 0 && !destination.closed; position++, release--) destination.next(held[position]!);
    if (position < held.length) {
      this.held = held.slice(position).concat(chunks);
      return;
    }
    for (let fresh = 0; fresh < release && !destination.closed; fresh++) destination.next(chunks[fresh]!);
    this.held = release === 0 ? chunks : chunks.slice(release);
  }

  protected override onComplete(): void {
    if (this.settling) this.completing = true;
    else this.finish();
  }

  /** The source completed and every window is settled: what is held goes out (rewritten, once a rail rewrote). */
  private finish(): void {
    const { destination } = this;
    if (this.ledger !== undefined) this.held = this.ledger.finish();
    for (const item of this.held) {
      if (destination.closed) return;
      destination.next(item);
    }
    destination.complete();
  }
}

/**
 * Signals the violation of a blocked window per mode. Ending the destination unsubscribes the source at once,
 * which is what stops the upstream LLM request.
 */
export function signalViolation(destination: Subscriber<string>, batch: CheckedBatch, settings: ViolationSettings): void {
  const verdict = batch.blocked!;
  const error = new RailViolationError({ rail: verdict.rail, batchIndex: batch.index, verdict });
  if (settings.mode === 'error') {
    destination.error(error);
    return;
  }
  destination.next(settings.mode === 'chunk' ? error.toChunk() : settings.replacement);
  destination.complete();
}
