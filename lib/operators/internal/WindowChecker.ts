// Internal: checks windows one at a time, in order, as concatMap would, but without an inner subscription per
// window while the rails answer synchronously. Shared by checkRail and guard's streamFirst path.
import { concatMap, isObservable, map, merge, type Observable, of, Subscription, takeWhile, toArray } from 'rxjs';
import type { CheckedBatch, ChunkBatch, RailVerdict } from '../../core/types.js';
import { PassedWindows } from './PassedWindows.js';
import type { CheckSettings, WindowSize } from './settings.js';
import { railVerdict$, runRail } from './runRail.js';

/** Where a WindowChecker reports. */
export interface CheckedSink {
  checked(batch: CheckedBatch): void;
  failed(error: unknown): void;
  /** Every window pushed before `complete()` has been checked. */
  done(): void;
}

/** A window being checked, or checked and waiting for the windows before it to be reported. */
interface Slot {
  result: CheckedBatch | undefined;
  finished: boolean;
  readonly subscription: Subscription;
}

/**
 * Windows are reported strictly in order. Up to `concurrency` of them (settings) are checked at once (1: one after
 * the other, as concatMap); a window arriving while that many are being checked waits, and its rails are not
 * called before its turn; a window checked before the ones ahead of it waits for them to be reported. A window whose
 * rails all answer synchronously is checked within `push`, so synchronous pipelines stay synchronous. `stop()`
 * aborts the checks in flight and drops the queue.
 */
export class WindowChecker {
  private readonly waiting: ChunkBatch[] = [];
  /** With `merging`: how many items each waiting window holds, and the index the last window queued got. */
  private readonly waitingItems: number[] = [];
  private pushed = 0;
  private lastIndex = 0;
  /** Windows started and not reported yet, in order. */
  private readonly slots: Slot[] = [];
  private running = 0;
  private draining = false;
  private completing = false;
  private stopped = false;
  /** What each rail passed last: a window's context it passed is not its to scan again. */
  private readonly passed: PassedWindows;

  /**
   * `merging` (guard's windows): a window cut while the checks are all taken joins the last window waiting when the
   * two hold at most `chunkSize` items together, so rails slower than the stream check fewer, larger windows (a
   * growing schedule's small first windows, while a judge answers the first). Windows are then numbered as queued.
   */
  constructor(
    private readonly settings: CheckSettings,
    private readonly sink: CheckedSink,
    private readonly merging?: WindowSize,
  ) {
    this.passed = new PassedWindows(settings.rails.length);
  }

  push(batch: ChunkBatch): void {
    if (this.stopped) return;
    if (this.merging) {
      this.pushMerging(batch, this.merging);
      return;
    }
    this.waiting.push(batch);
    this.drain();
  }

  private pushMerging(batch: ChunkBatch, size: WindowSize): void {
    const { waiting, waitingItems } = this;
    // A window holds its new items after contextSize items of the previous one (the first: its new items only).
    const items = (this.pushed === 0 ? 0 : size.contextSize) + batch.chunks.length;
    const last = waiting.length - 1;
    this.pushed++;
    if (last >= 0 && waitingItems[last]! - size.contextSize + items <= size.chunkSize) {
      const before = waiting[last]!;
      const context = batch.text.length - textLength(batch.chunks);
      waiting[last] = { index: before.index, text: before.text + batch.text.slice(context), chunks: before.chunks.concat(batch.chunks), final: batch.final, overlap: batch.overlap };
      waitingItems[last] = waitingItems[last]! - size.contextSize + items;
      return;
    }
    const index = this.pushed === 1 ? 0 : this.lastIndex + 1;
    this.lastIndex = index;
    waiting.push(index === batch.index ? batch : { index, text: batch.text, chunks: batch.chunks, final: batch.final, overlap: batch.overlap });
    waitingItems.push(items);
    this.drain();
  }

  complete(): void {
    this.completing = true;
    this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.waitingItems.length = 0;
    for (const slot of this.slots.splice(0)) slot.subscription.unsubscribe();
    this.running = 0;
  }

  // A loop rather than recursion: a check that completes synchronously inside run() only frees its place, and this
  // loop takes the next window, so a long queue never deepens the stack.
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const { concurrency } = this.settings;
      while (!this.stopped && this.running < concurrency && this.waiting.length > 0) {
        if (this.merging) this.waitingItems.shift();
        this.run(this.waiting.shift()!);
      }
    } finally {
      this.draining = false;
    }
    if (!this.stopped && this.completing && this.slots.length === 0 && this.waiting.length === 0) {
      this.stopped = true;
      this.sink.done();
    }
  }

  private run(batch: ChunkBatch): void {
    const { settings, passed } = this;
    const number = passed.start();
    const outcome = settings.parallel ? checkInParallel(batch, number, settings, passed) : checkInSequence(batch, number, settings, passed);
    if (!isObservable(outcome)) {
      if (this.slots.length === 0) this.sink.checked(outcome);
      else this.slots.push({ result: outcome, finished: true, subscription: Subscription.EMPTY });
      return;
    }
    const subscription = new Subscription();
    const slot: Slot = { result: undefined, finished: false, subscription };
    this.slots.push(slot);
    this.running++;
    subscription.add(
      outcome.subscribe({
        next: (checked) => {
          slot.result = checked;
        },
        error: (error: unknown) => this.sink.failed(error),
        complete: () => {
          if (slot.finished || this.stopped) return;
          slot.finished = true;
          this.running--;
          this.report();
          this.drain();
        },
      }),
    );
  }

  /** Reports, in order, the windows whose checks are over and have none ahead still being checked. */
  private report(): void {
    const { slots } = this;
    while (!this.stopped && slots.length > 0 && slots[0]!.finished) {
      const { result } = slots.shift()!;
      if (result !== undefined) this.sink.checked(result);
    }
  }
}

/**
 * Rails in order, stopping at the first block; synchronous for as long as the rails answer synchronously. `number`:
 * the window's, for `passed`.
 */
function checkInSequence(batch: ChunkBatch, number: number, settings: CheckSettings, passed: PassedWindows): CheckedBatch | Observable<CheckedBatch> {
  return continueFrom(0, []);

  function continueFrom(start: number, verdicts: RailVerdict[]): CheckedBatch | Observable<CheckedBatch> {
    for (let position = start; position < settings.rails.length; position++) {
      const outcome = runRail(settings.rails[position]!, batch, settings, { passed, position, number });
      if (isObservable(outcome)) {
        return outcome.pipe(concatMap((verdict) => settle(verdict, verdicts, position)));
      }
      verdicts.push(outcome);
      if (!outcome.allowed) return checked(batch, verdicts, outcome);
    }
    return checked(batch, verdicts, undefined);
  }

  function settle(verdict: RailVerdict, verdicts: RailVerdict[], position: number): Observable<CheckedBatch> {
    verdicts.push(verdict);
    const next = verdict.allowed ? continueFrom(position + 1, verdicts) : checked(batch, verdicts, verdict);
    return isObservable(next) ? next : of(next);
  }
}

/** All rails at once; the first block wins and unsubscribing the rest aborts them. */
function checkInParallel(batch: ChunkBatch, number: number, settings: CheckSettings, passed: PassedWindows): Observable<CheckedBatch> {
  const positioned$ = settings.rails.map((rail, position) =>
    railVerdict$(rail, batch, settings, { passed, position, number }).pipe(map((verdict) => ({ position, verdict }))),
  );
  return merge(...positioned$).pipe(
    // The first block ends the merge, which unsubscribes (and so aborts) the rails still working and keeps any
    // rail not yet started from being called.
    takeWhile(({ verdict }) => verdict.allowed, true),
    toArray(),
    map((decided): CheckedBatch => {
      const blocked = decided.find(({ verdict }) => !verdict.allowed)?.verdict;
      const verdicts = decided.sort((a, b) => a.position - b.position).map(({ verdict }) => verdict);
      return checked(batch, verdicts, blocked);
    }),
  );
}

/**
 * Spelled out rather than `{ ...batch, verdicts }`: on Node 20 a spread followed by an added property falls off
 * V8's fast path and costs about a microsecond, once per window.
 */
function checked(batch: ChunkBatch, verdicts: readonly RailVerdict[], blocked: RailVerdict | undefined): CheckedBatch {
  return {
    index: batch.index,
    text: batch.text,
    chunks: batch.chunks,
    final: batch.final,
    overlap: batch.overlap,
    verdicts,
    blocked,
  };
}

function textLength(chunks: readonly string[]): number {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return length;
}
