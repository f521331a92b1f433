// Internal: guard with validated settings, for guard itself and for the LLMRails rail plan (which validates once
// and adds each call's messages and usage sink).
import { type MonoTypeOperatorFunction, pipe } from 'rxjs';
import { checkWith } from './checkWith.js';
import { releaseOrBlock } from './releaseOrBlock.js';
import { releaseWhileChecking } from './releaseWhileChecking.js';
import type { GuardSettings } from './settings.js';
import { windowsOf } from './windowsOf.js';

export function guardWith(settings: GuardSettings): MonoTypeOperatorFunction<string> {
  const { size, check, violation, streamFirst } = settings;
  return streamFirst ? releaseWhileChecking(size, check, violation) : pipe(windowsOf(size, 'guard'), checkWith(check, size), releaseOrBlock(violation));
}
