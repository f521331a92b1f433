// The windows of DESIGN §3.1, computed straight from the definition, as the reference the operators are held to.
import fc from 'fast-check';

export interface ModelWindow {
  index: number;
  text: string;
  chunks: string[];
  final: boolean;
  overlap: number;
  /** Stream positions [start, end) of the window's items. */
  start: number;
  end: number;
}

/**
 * The windows of `items`: the first holds `firstChunkSize` items, window k releases r_k = min(chunkSize − contextSize,
 * 2^k · (firstChunkSize − contextSize)) items after repeating the previous window's last `contextSize`; when the source
 * completes, the items no window reached go out in a final window with the contextSize items before them.
 */
export function windowModel(items: readonly string[], chunkSize: number, contextSize: number, firstChunkSize = chunkSize): ModelWindow[] {
  const windows: ModelWindow[] = [];
  let start = 0;
  let end = firstChunkSize;
  let release = firstChunkSize - contextSize;
  for (; end <= items.length; ) {
    const k = windows.length;
    const firstNew = k === 0 ? 0 : start + contextSize;
    windows.push({ index: k, text: items.slice(start, end).join(''), chunks: items.slice(firstNew, end), final: false, overlap: contextSize, start, end });
    start = end - contextSize;
    release = Math.min(chunkSize - contextSize, release * 2);
    end = end + release;
  }
  const covered = windows.length === 0 ? 0 : windows.at(-1)!.end;
  if (items.length > covered) {
    const from = windows.length === 0 ? 0 : covered - contextSize;
    windows.push({ index: windows.length, text: items.slice(from).join(''), chunks: items.slice(covered), final: true, overlap: 0, start: from, end: items.length });
  }
  return windows;
}

/** Drops the model-only fields, leaving what a ChunkBatch holds. */
export function asBatch({ start: _start, end: _end, ...batch }: ModelWindow) {
  return batch;
}

/** A window size: chunkSize 1..12, contextSize 0..chunkSize-1. */
export const windowSizeArbitrary = fc
  .integer({ min: 1, max: 12 })
  .chain((chunkSize) => fc.record({ chunkSize: fc.constant(chunkSize), contextSize: fc.integer({ min: 0, max: chunkSize - 1 }) }));

/** Stream items: short strings of any kind, the empty string and non-BMP characters included. */
export const itemsArbitrary = fc.array(
  fc.oneof(fc.string({ maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 3 }), fc.constantFrom('', ' ', '\n', '😀')),
  { maxLength: 60 },
);

/** A window size with, half the time, a firstChunkSize from contextSize + 1 to chunkSize. */
export const growingSizeArbitrary = windowSizeArbitrary.chain(({ chunkSize, contextSize }) =>
  fc.record(
    { chunkSize: fc.constant(chunkSize), contextSize: fc.constant(contextSize), firstChunkSize: fc.integer({ min: contextSize + 1, max: chunkSize }) },
    { requiredKeys: ['chunkSize', 'contextSize'] },
  ),
);
