// Internal: the window geometry of bufferChunks as a plain state machine, shared by bufferChunks and guard.
import type { ChunkBatch } from '../../core/types.js';
import type { WindowSize } from './settings.js';

/**
 * Cuts items into windows of `chunkSize` items, each starting `chunkSize - contextSize` items after the previous
 * one. One instance per subscription.
 *
 * This runs once per token, so it neither re-joins items (Array#join of a window costs about ten times a string
 * append per item) nor copies text twice: a window's text is the slice of the previous window's text where its
 * context starts, plus the items appended since. Rails flatten the previous text in place when they scan it, so
 * that slice is a constant-time view. Memory stays within two windows of text.
 */
export class WindowCutter {
  private readonly chunkSize: number;
  private readonly contextSize: number;
  private readonly step: number;
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
    this.step = size.chunkSize - size.contextSize;
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
    if (++this.items - this.windowStart < this.chunkSize) return undefined;
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
    this.windowStart += this.step;
    return batch;
  }
}
