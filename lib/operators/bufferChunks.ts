import type { OperatorFunction } from 'rxjs';
import type { ChunkBatch } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertInteger, assertKnownKeys, assertOptionsObject } from '../internal/validateOptions.js';
import type { WindowSize } from './internal/settings.js';
import { windowsOf } from './internal/windowsOf.js';

/** Options of {@link bufferChunks}. */
export interface BufferChunksOptions {
  /**
   * Items per window (NeMo's `chunk_size`). An integer of at least 1.
   * @default 200
   */
  readonly chunkSize?: number;
  /**
   * Items each window repeats from the previous one (NeMo's `context_size`). An integer from 0 to `chunkSize - 1`.
   * @default 50
   */
  readonly contextSize?: number;
  /**
   * Items in the first window, from `contextSize + 1` to `chunkSize`. Below `chunkSize`, windows start small and
   * grow: window k releases r_k = min(chunkSize − contextSize, 2^k · (firstChunkSize − contextSize)) items (all but
   * its last `contextSize`) and holds contextSize + r_k items, until windows are `chunkSize`. Held-back text is then
   * first released after `firstChunkSize` items rather than `chunkSize` (guard with `streamFirst: false`).
   * @default chunkSize (guard with streamFirst: false: contextSize + 1)
   */
  readonly firstChunkSize?: number;
}

/** Defaults from NeMo Guardrails' `rails.output.streaming` config. */
export const DEFAULT_CHUNK_SIZE = 200;
export const DEFAULT_CONTEXT_SIZE = 50;

/**
 * Validates chunkSize/contextSize/firstChunkSize for `owner`, applying the defaults; `growing` makes the first window
 * default to contextSize + 1 (guard's hold-back mode) rather than chunkSize.
 */
export function resolveWindowSize(owner: string, options: BufferChunksOptions, growing = false): WindowSize {
  assertOptionsObject(owner, options);
  const { chunkSize = DEFAULT_CHUNK_SIZE, contextSize = DEFAULT_CONTEXT_SIZE } = options;
  assertInteger(owner, 'chunkSize', chunkSize, 1);
  assertInteger(owner, 'contextSize', contextSize, 0);
  if (contextSize >= chunkSize) {
    const given = options.contextSize === undefined ? `${contextSize} (the default)` : String(contextSize);
    throw new InvalidOptionError(
      'contextSize',
      contextSize,
      `${owner}: contextSize must be less than chunkSize, got contextSize ${given} with chunkSize ${chunkSize}` +
        (options.contextSize === undefined ? '; pass a smaller contextSize explicitly' : ''),
    );
  }
  const { firstChunkSize = growing ? contextSize + 1 : chunkSize } = options;
  assertInteger(owner, 'firstChunkSize', firstChunkSize, 1);
  if (firstChunkSize <= contextSize || firstChunkSize > chunkSize) {
    throw new InvalidOptionError(
      'firstChunkSize',
      firstChunkSize,
      `${owner}: firstChunkSize must be more than contextSize and at most chunkSize (from ${contextSize + 1} to ${chunkSize}), got ${firstChunkSize}`,
    );
  }
  return { chunkSize, contextSize, firstChunkSize };
}

/**
 * Cuts a token stream into overlapping windows of `chunkSize` items, each repeating the last `contextSize` items
 * of the one before.
 *
 * With C = chunkSize, X = contextSize and s = C - X, window k covers items `[k*s, k*s + C)` and is emitted as
 * soon as its last item arrives. When the source completes, the items no window reached yet (if any) are emitted
 * in one final window together with the X items before them. No window ever brings zero new items, so any run of
 * at most X + 1 consecutive items lies wholly inside some window.
 *
 * ```
 * source:  --a--b--c--d--e--|        bufferChunks({ chunkSize: 3, contextSize: 1 })
 * result:  --------x-----y--|        x = "abc" (chunks a b c), y = "cde" (chunks d e)
 * ```
 * No window follows y: `e` was checked in it already. With one more item `f`, a final window "ef" (chunks f)
 * would be emitted on completion.
 *
 * - Completes after the final window; an empty source gives no window.
 * - Errors pass through at once (items of an unfinished window are not emitted).
 * - Unsubscribing unsubscribes the source.
 * - A non-string item errors the stream with {@link InvalidItemError} when it arrives.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { bufferChunks } from 'rxguardrails';
 *
 * from(['The ', 'quick ', 'brown ', 'fox ', 'jumps']).pipe(bufferChunks({ chunkSize: 3, contextSize: 1 }))
 *   .subscribe((batch) => console.log(batch.index, JSON.stringify(batch.text), batch.chunks));
 * // 0 "The quick brown " [ 'The ', 'quick ', 'brown ' ]
 * // 1 "brown fox jumps" [ 'fox ', 'jumps' ]
 * ```
 *
 * @param options `chunkSize` (default 200) and `contextSize` (default 50); invalid values throw
 * {@link InvalidOptionError} here, not when the stream runs.
 */
export function bufferChunks(options: BufferChunksOptions = {}): OperatorFunction<string, ChunkBatch> {
  assertKnownKeys('bufferChunks', options, WINDOW_OPTION_KEYS);
  return windowsOf(resolveWindowSize('bufferChunks', options), 'bufferChunks');
}

/** bufferChunks' option names (guard accepts them too). */
export const WINDOW_OPTION_KEYS = ['chunkSize', 'contextSize', 'firstChunkSize'] as const;
