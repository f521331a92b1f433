// Internal: guard's streamFirst mode. Hand-written rather than composed, for two reasons: each item must reach the
// subscriber *before* the window it completes is checked (so a synchronous rail cannot hold back the item that
// filled its window), and this is the per-token hot path, where a `connect` + `merge` composition multicasting
// every token through a Subject costs several times as much. Only the windows go through a Subject, into the
// composed checks.
import { type MonoTypeOperatorFunction, Observable, type OperatorFunction, Subject } from 'rxjs';
import { InvalidItemError } from '../errors/InvalidItemError.js';
import { signalViolation, type ViolationSettings } from './blockOnViolation.js';
import type { ChunkBatch, WindowSize } from './bufferChunks.js';
import type { CheckedBatch } from './checkRail.js';
import { subscribeUpstream } from './subscribeUpstream.js';
import { WindowCutter } from './windowCutter.js';

export function releaseWhileChecking(
  size: WindowSize,
  check: OperatorFunction<ChunkBatch, CheckedBatch>,
  violation: ViolationSettings,
): MonoTypeOperatorFunction<string> {
  return (source) =>
    new Observable<string>((destination) => {
      const windows$ = new Subject<ChunkBatch>();
      // Subscribed before the source, so windows filled by a synchronous source are checked as they fill.
      destination.add(
        windows$.pipe(check).subscribe({
          next: (batch) => {
            if (batch.blocked) signalViolation(destination, batch, violation);
          },
          error: (error: unknown) => destination.error(error),
          // Only after the source completed and the last window passed.
          complete: () => destination.complete(),
        }),
      );
      const cutter = new WindowCutter(size);
      let position = 0;
      subscribeUpstream(source, destination, {
        next: (item) => {
          if (typeof item !== 'string') {
            destination.error(new InvalidItemError('guard', position, item));
            return;
          }
          position++;
          destination.next(item);
          const batch = cutter.push(item);
          if (batch && !destination.closed) windows$.next(batch);
        },
        error: (error: unknown) => destination.error(error),
        complete: () => {
          const batch = cutter.flush();
          if (batch) windows$.next(batch);
          windows$.complete();
        },
      });
    });
}
