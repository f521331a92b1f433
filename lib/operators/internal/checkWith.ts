// Internal: checkRail's hot path.
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { CheckedBatch, ChunkBatch } from '../../core/types.js';
import type { CheckSettings, WindowSize } from './settings.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';
import { WindowChecker } from './WindowChecker.js';

/** checkRail with validated settings; `merging` (guard): windows waiting behind a check join (see WindowChecker). */
export function checkWith(settings: CheckSettings, merging?: WindowSize): OperatorFunction<ChunkBatch, CheckedBatch> {
  return (source) => new Observable<CheckedBatch>((destination) => new CheckingSubscriber(destination, settings, merging).subscribeTo(source));
}

/** Feeds windows to a WindowChecker, which keeps them in order and one at a time, like concatMap. */
class CheckingSubscriber extends UpstreamSubscriber<ChunkBatch, CheckedBatch> {
  private readonly checker: WindowChecker;

  constructor(destination: Subscriber<CheckedBatch>, settings: CheckSettings, merging: WindowSize | undefined) {
    super(destination);
    this.checker = new WindowChecker(
      settings,
      {
        checked: (batch) => destination.next(batch),
        failed: (error) => destination.error(error),
        done: () => destination.complete(),
      },
      merging,
    );
    // Unsubscribing (or an error) aborts the check in flight; completion waits for the checks.
    destination.add(() => this.checker.stop());
  }

  next(batch: ChunkBatch): void {
    if (this.closed) return;
    try {
      this.checker.push(batch);
    } catch (error) {
      this.error(error);
    }
  }

  protected override onComplete(): void {
    this.checker.complete();
  }
}
