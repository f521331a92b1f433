// Internal: the window geometry of bufferChunks as a plain state machine, shared by bufferChunks and guard.
import type { ChunkBatch } from '../../core/types.js';
import type { WindowSize } from './settings.js';

/**
 * Cuts items into windows, each repeating the last `contextSize` items of the previous one. The first holds
 * `firstChunkSize` items; window k releases (brings after its context) r_k = min(chunkSize − contextSize,
 * 2^k · (firstChunkSize − contextSize)) items, so windows double what they release until they hold `chunkSize`
 * (with firstChunkSize = chunkSize, every window holds chunkSize: NeMo's schedule). One instance per subscription.
 *
 * This runs once per token, so per item it only appends the item to the text and keeps it; the rest is once per
 * window. It does not re-join items (Array#join or String#concat over a window's items cost more than an append per
 * item on V8: the core bench's textBuilding figures) nor copy text twice: a window's text is the tail of the previous
 * window's text that its context covers, plus the items appended since. Rails flatten the previous text in place
 * when they scan it, so that tail is a constant-time view. Where the context starts is counted once per window from
 * the lengths of the items it repeats, not recorded per item. Memory stays within two windows of text.
 */
export class WindowCutter {
  private readonly contextSize: number;
  /** What a full window releases: chunkSize - contextSize. */
  private readonly fullRelease: number;
  /** What the window being filled releases (r_k), and the item count at which it is complete. */
  private release: number;
  private windowEnd: number;
  private items = 0;
  /** The last emitted window's text, and how many of its last characters the next window repeats. */
  private previousText = '';
  private contextCharacters = 0;
  /**
   * The items the next window repeats, while windows release fewer items than `contextSize` (the first windows of a
   * small `firstChunkSize`): the context then reaches back into the previous window's own context.
   */
  private contextItems: readonly string[] = [];
  /** Items appended since the last window, as text and as items. */
  private added = '';
  private readonly fresh: string[];
  private freshCount = 0;
  private index = 0;

  constructor(size: WindowSize) {
    this.contextSize = size.contextSize;
    this.fullRelease = size.chunkSize - size.contextSize;
    this.release = size.firstChunkSize - size.contextSize;
    this.windowEnd = size.firstChunkSize;
    this.fresh = new Array<string>(size.chunkSize).fill('');
  }

  /** Adds an item; returns the window it completed, if it completed one. */
  push(item: string): ChunkBatch | undefined {
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
    const { previousText, contextSize } = this;
    const text = previousText.slice(previousText.length - this.contextCharacters) + this.added;
    const chunks = this.fresh.slice(0, this.freshCount);
    const batch: ChunkBatch = { index: this.index++, text, chunks, final, overlap: final ? 0 : contextSize };
    if (this.release < this.fullRelease) this.release = Math.min(this.fullRelease, this.release * 2);
    this.windowEnd = this.items + this.release;
    // What the next window repeats: this window's last contextSize items (their items kept only while the next
    // window releases fewer than that, so that its own successor's context reaches back into them).
    if (!final) {
      let characters = 0;
      if (chunks.length >= contextSize && this.release >= contextSize) {
        for (let position = chunks.length - contextSize; position < chunks.length; position++) characters += chunks[position]!.length;
        this.contextItems = [];
      } else {
        const items = this.contextItems.concat(chunks);
        const repeated = items.slice(Math.max(0, items.length - contextSize));
        for (const item of repeated) characters += item.length;
        this.contextItems = repeated;
      }
      this.contextCharacters = characters;
    }
    this.previousText = text;
    this.added = '';
    this.freshCount = 0;
    return batch;
  }
}
