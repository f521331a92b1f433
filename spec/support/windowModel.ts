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

export function windowModel(items: readonly string[], chunkSize: number, contextSize: number): ModelWindow[] {
  const step = chunkSize - contextSize;
  const windows: ModelWindow[] = [];
  let k = 0;
  for (; k * step + chunkSize <= items.length; k++) {
    const start = k * step;
    const end = start + chunkSize;
    const firstNew = k === 0 ? 0 : start + contextSize;
    windows.push({
      index: k,
      text: items.slice(start, end).join(''),
      chunks: items.slice(firstNew, end),
      final: false,
      overlap: contextSize,
      start,
      end,
    });
  }
  const covered = k === 0 ? 0 : (k - 1) * step + chunkSize;
  if (items.length > covered) {
    const start = k === 0 ? 0 : covered - contextSize;
    windows.push({
      index: k,
      text: items.slice(start).join(''),
      chunks: items.slice(covered),
      final: true,
      overlap: 0,
      start,
      end: items.length,
    });
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
