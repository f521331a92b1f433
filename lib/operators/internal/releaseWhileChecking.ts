// Internal: guard's streamFirst mode. Each item must reach the subscriber *before* the window it completes is
// checked (so a synchronous rail cannot hold back the item that filled its window), and this is the per-token hot
// path: items go straight to the subscriber and into the window cutter, windows straight to the checker, with no
// Subject or inner subscription in between.
//
// The order is cut, release, check. A consumer may push the next item into the source from inside its `next` (an
// echo, a store dispatch: RxJS's re-entrancy case, its issue #2062): such an item waits until the one in hand is
// released and its window checked, so the consumer gets what it would get feeding the source from outside.
import { type MonoTypeOperatorFunction, Observable, type Subscriber } from 'rxjs';
import { InvalidItemError } from '../../errors/InvalidItemError.js';
import type { CheckedBatch, RailVerdict } from '../../core/types.js';
import { signalViolation } from './releaseOrBlock.js';
import { hasRewrites } from './RewriteLedger.js';
import type { CheckSettings, ViolationSettings, WindowSize } from './settings.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';
import { WindowChecker } from './WindowChecker.js';
import { WindowCutter } from './WindowCutter.js';

export function releaseWhileChecking(size: WindowSize, check: CheckSettings, violation: ViolationSettings): MonoTypeOperatorFunction<string> {
  return (source) => new Observable<string>((destination) => new ReleasingSubscriber(destination, size, check, violation).subscribeTo(source));
}

class ReleasingSubscriber extends UpstreamSubscriber<unknown, string> {
  private readonly cutter: WindowCutter;
  private readonly checker: WindowChecker;
  private position = 0;
  /** An item is being taken: one that comes in meanwhile came from the consumer, re-entrantly. */
  private taking = false;
  /** Items (and the completion) that came in re-entrantly, taken in order once the one in hand is. */
  private readonly queued: unknown[] = [];
  private completing = false;

  constructor(destination: Subscriber<string>, size: WindowSize, check: CheckSettings, violation: ViolationSettings) {
    super(destination);
    this.cutter = new WindowCutter(size);
    this.checker = new WindowChecker(check, {
      checked: (batch) => {
        if (batch.blocked) signalViolation(destination, batch, violation);
        else if (hasRewrites(batch.verdicts)) signalViolation(destination, unrewritable(batch), violation);
      },
      failed: (error) => destination.error(error),
      // Only after the source completed and the last window passed.
      done: () => destination.complete(),
    });
    destination.add(() => this.checker.stop());
  }

  // The hot path, written out (see UpstreamSubscriber): a re-entrant item is only queued here, and the queue is
  // looked at once the item in hand is done.
  next(item: unknown): void {
    if (this.closed) return;
    if (this.taking) {
      this.queued.push(item);
      return;
    }
    try {
      if (typeof item !== 'string') {
        this.error(new InvalidItemError('guard', this.position, item));
        return;
      }
      this.taking = true;
      this.position++;
      const batch = this.cutter.push(item);
      this.destination.next(item);
      if (batch !== undefined && !this.destination.closed) this.checker.push(batch);
      this.taking = false;
      if (this.queued.length > 0 || this.completing) this.takeQueued();
    } catch (error) {
      this.taking = false;
      this.error(error);
    }
  }

  /** What came in re-entrantly while an item was taken: the items in order, then the completion. */
  private takeQueued(): void {
    this.taking = true;
    // Not `this.closed`: a completion that came in re-entrantly has closed this subscriber, not the destination.
    while (this.queued.length > 0 && !this.destination.closed) this.take(this.queued.shift());
    this.taking = false;
    if (this.completing) this.finish();
  }

  /** Cut, release, check: the item is in its window before the consumer has it, and checked after. */
  private take(item: unknown): void {
    if (typeof item !== 'string') {
      this.error(new InvalidItemError('guard', this.position, item));
      return;
    }
    this.position++;
    const batch = this.cutter.push(item);
    this.destination.next(item);
    if (batch && !this.destination.closed) this.checker.push(batch);
  }

  protected override onComplete(): void {
    if (this.taking) this.completing = true;
    else this.finish();
  }

  // The last window is checked after the source completes; the checker then completes the destination.
  private finish(): void {
    const batch = this.cutter.flush();
    if (batch) this.checker.push(batch);
    this.checker.complete();
  }
}

/**
 * A window a rail rewrote, which this mode cannot honour: its items went out as they arrived. It fails closed, as an
 * internal error of the rail, whatever onError says: the rail asked for text not to be released as it is.
 */
function unrewritable(batch: CheckedBatch): CheckedBatch {
  const rewriting = batch.verdicts.find((verdict) => verdict.rewrites !== undefined)!;
  const reason = 'it rewrote text already released (streamFirst: true); rewriting rails need streamFirst: false';
  const failed: RailVerdict = { rail: rewriting.rail, allowed: false, kind: 'internal_error', reason, error: new Error(reason) };
  return { ...batch, blocked: failed };
}
