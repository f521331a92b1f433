// Internal: blockOnViolation's hot path, and how a violation is signalled (shared with guard's streamFirst path).
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { CheckedBatch } from '../../core/types.js';
import { RailViolationError } from '../../errors/RailViolationError.js';
import type { ViolationSettings } from './settings.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';

/** blockOnViolation with validated settings. Hand-written: it releases tokens one by one, on the hot path. */
export function releaseOrBlock(settings: ViolationSettings): OperatorFunction<CheckedBatch, string> {
  return (source) => new Observable<string>((destination) => new SettlingSubscriber(destination, settings).subscribeTo(source));
}

class SettlingSubscriber extends UpstreamSubscriber<CheckedBatch, string> {
  /** Items of passed windows that the next window checks again. */
  private held: readonly string[] = [];

  constructor(
    destination: Subscriber<string>,
    private readonly settings: ViolationSettings,
  ) {
    super(destination);
  }

  next(batch: CheckedBatch): void {
    if (this.closed) return;
    try {
      if (batch.blocked) {
        signalViolation(this.destination, batch, this.settings);
        return;
      }
      // Everything held and new is released except the last `overlap` items, oldest first.
      const { held, destination } = this;
      const { chunks } = batch;
      let release = held.length + chunks.length - Math.min(batch.overlap, held.length + chunks.length);
      let position = 0;
      for (; position < held.length && release > 0 && !this.closed; position++, release--) destination.next(held[position]!);
      if (position < held.length) {
        this.held = held.slice(position).concat(chunks);
        return;
      }
      for (let fresh = 0; fresh < release && !this.closed; fresh++) destination.next(chunks[fresh]!);
      this.held = release === 0 ? chunks : chunks.slice(release);
    } catch (error) {
      this.error(error);
    }
  }

  protected override onComplete(): void {
    for (const item of this.held) {
      if (this.closed) return;
      this.destination.next(item);
    }
    this.destination.complete();
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
