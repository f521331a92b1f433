// Internal: output rails on the whole answer at once (NeMo's non-streaming output rails): the answer is held until
// it is complete, checked as one window, then released as the source emitted it (with the rails' rewrites applied, as
// releaseOrBlock applies them to any window: masking).
import { concatMap, EMPTY, type MonoTypeOperatorFunction, of, pipe, toArray } from 'rxjs';
import type { ChunkBatch } from '../../core/types.js';
import { checkWith } from './checkWith.js';
import { releaseOrBlock } from './releaseOrBlock.js';
import type { CheckSettings, ViolationSettings } from './settings.js';

export function wholeAnswer(check: CheckSettings, violation: ViolationSettings): MonoTypeOperatorFunction<string> {
  return pipe(
    toArray(),
    concatMap((tokens) => (tokens.length === 0 ? EMPTY : of<ChunkBatch>({ index: 0, text: tokens.join(''), chunks: tokens, final: true, overlap: 0 }))),
    checkWith(check),
    releaseOrBlock(violation),
  );
}
