// Internal: the window geometry of bufferChunks as a plain state machine, shared by bufferChunks and guard.
import type { ChunkBatch } from '../../core/types.js';
import type { WindowSize } from './settings.js';

/**
 * Cuts items into windows, each repeating the last `contextSize` items of the previous one. The first holds
 * `firstChunkSize` items; window k releases (brings after its context) r_k = min(chunkSize − contextSize,
 * 2^k · (firstChunkSize − contextSize)) items, so windows double what they release until they hold `chunkSize`
 * (with firstChunkSize = chunkSize, every window holds chunkSize: NeMo's schedule). One instance per subscription.
 *
 * This runs once per token, so it neither re-joins items (Array#join of a window costs about ten times a string
 * append per item) nor copies text twice: a window's text is the slice of the previous window's text where its
 * context starts, plus the items appended since. Rails flatten the previous text in place when they scan it, so
 * that slice is a constant-time view. Memory stays within two windows of text.
 */
export class WindowCutter {
  private readonly chunkSize: number;
  private readonly contextSize: number;
  /** What a full window releases: chunkSize - contextSize. */
  private readonly fullRelease: number;
  /** What the window being filled releases (r_k), and the item count at which it is complete. */
  private release: number;
  private windowEnd: number;
  /** Where, in the whole stream's text, each of the last `chunkSize` items starts (a ring). */
  private readonly starts: Float64Array;
  private ringPosition = 0;
  private characters = 0;
  private items = 0;
  /** Stream position of the first item of the window being filled. */
  private windowStart = 0;
  /** The last emitted window's text and where it started. */
  private previousText = '';
  private previousOffset = 0;
  /** Items appended since the last window, as text and as items. */
  private added = '';
  private readonly fresh: string[];
  private freshCount = 0;
  private index = 0;

  constructor(size: WindowSize) {
    this.chunkSize = size.chunkSize;
    this.contextSize = size.contextSize;
    this.fullRelease = size.chunkSize - size.contextSize;
    this.release = size.firstChunkSize - size.contextSize;
    this.windowEnd = size.firstChunkSize;
    this.starts = new Float64Array(size.chunkSize);
    this.fresh = new Array<string>(size.chunkSize).fill('');
  }

  /** Adds an item; returns the window it completed, if it completed one. */
  push(item: string): ChunkBatch | undefined {
    this.starts[this.ringPosition] = this.characters;
    if (++this.ringPosition === this.chunkSize) this.ringPosition = 0;
    this.characters += item.length;
    this.added += item;
    this.fresh[this.freshCount++] = item;
    if (++this.items < this.windowEnd) return undefined;
    return this.emit(false);
  }

  /** At completion: the final window, if items arrived that no window covered yet. */
  flush(): ChunkBatch | undefined {
    return this.freshCount === 0 ? undefined : this.emit(true);
  }

  private emit(final: boolean): ChunkBatch {
    // The window's first item is at most chunkSize - 1 items back, so the ring still holds where it starts.
    const offset = this.starts[this.windowStart % this.chunkSize]!;
    const text = this.previousText.slice(offset - this.previousOffset) + this.added;
    const batch: ChunkBatch = {
      index: this.index++,
      text,
      chunks: this.fresh.slice(0, this.freshCount),
      final,
      overlap: final ? 0 : this.contextSize,
    };
    this.previousText = text;
    this.previousOffset = offset;
    this.added = '';
    this.freshCount = 0;
    this.windowStart = this.items - this.contextSize;
    if (this.release < this.fullRelease) this.release = Math.min(this.fullRelease, this.release * 2);
    this.windowEnd = this.items + this.release;
    return batch;
  }
}
