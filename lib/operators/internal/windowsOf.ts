// Internal: bufferChunks' hot path.
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { ChunkBatch } from '../../core/types.js';
import { InvalidItemError } from '../../errors/InvalidItemError.js';
import type { WindowSize } from './settings.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';
import { WindowCutter } from './WindowCutter.js';

/**
 * bufferChunks with a validated size; `operator` names the caller in item errors. Hand-written on a
 * {@link WindowCutter} rather than composed from `bufferCount` (which keeps one array per open window and, on
 * completion, emits every started window, context-only ones included): this runs once per token, and the cutter
 * builds each window's text as it goes instead of joining it again.
 */
export function windowsOf(size: WindowSize, operator: string): OperatorFunction<unknown, ChunkBatch> {
  return (source) => new Observable<ChunkBatch>((destination) => new WindowsSubscriber(destination, size, operator).subscribeTo(source));
}

class WindowsSubscriber extends UpstreamSubscriber<unknown, ChunkBatch> {
  private readonly cutter: WindowCutter;
  private position = 0;

  constructor(
    destination: Subscriber<ChunkBatch>,
    size: WindowSize,
    private readonly operator: string,
  ) {
    super(destination);
    this.cutter = new WindowCutter(size);
  }

  next(item: unknown): void {
    if (this.closed) return;
    try {
      if (typeof item !== 'string') {
        this.error(new InvalidItemError(this.operator, this.position, item));
        return;
      }
      this.position++;
      const batch = this.cutter.push(item);
      if (batch) this.destination.next(batch);
    } catch (error) {
      this.error(error);
    }
  }

  protected override onComplete(): void {
    const batch = this.cutter.flush();
    if (batch) this.destination.next(batch);
    this.destination.complete();
  }
}
