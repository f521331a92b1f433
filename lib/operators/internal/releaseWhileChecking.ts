// Internal: guard's streamFirst mode. Each item must reach the subscriber *before* the window it completes is
// checked (so a synchronous rail cannot hold back the item that filled its window), and this is the per-token hot
// path: items go straight to the subscriber and into the window cutter, windows straight to the checker, with no
// Subject or inner subscription in between.
import { type MonoTypeOperatorFunction, Observable, type Subscriber } from 'rxjs';
import { InvalidItemError } from '../../errors/InvalidItemError.js';
import { signalViolation } from './releaseOrBlock.js';
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

  constructor(destination: Subscriber<string>, size: WindowSize, check: CheckSettings, violation: ViolationSettings) {
    super(destination);
    this.cutter = new WindowCutter(size);
    this.checker = new WindowChecker(check, {
      checked: (batch) => {
        if (batch.blocked) signalViolation(destination, batch, violation);
      },
      failed: (error) => destination.error(error),
      // Only after the source completed and the last window passed.
      done: () => destination.complete(),
    });
    destination.add(() => this.checker.stop());
  }

  next(item: unknown): void {
    if (this.closed) return;
    try {
      if (typeof item !== 'string') {
        this.error(new InvalidItemError('guard', this.position, item));
        return;
      }
      this.position++;
      this.destination.next(item);
      const batch = this.cutter.push(item);
      if (batch && !this.closed) this.checker.push(batch);
    } catch (error) {
      this.error(error);
    }
  }

  // The last window is checked after the source completes; the checker then completes the destination.
  protected override onComplete(): void {
    const batch = this.cutter.flush();
    if (batch) this.checker.push(batch);
    this.checker.complete();
  }
}
