// Type tests: compiled by `npm run typecheck` (tsc), never run. Each @ts-expect-error must stay an error.
import { from, type Observable, of } from 'rxjs';
import {
  blockOnViolation,
  bufferChunks,
  type ChunkBatch,
  type CheckedBatch,
  checkRail,
  defineRail,
  GuardrailError,
  guard,
  keywordRail,
  RailViolationError,
} from 'rxguardrails';

const tokens$: Observable<string> = from(['a', 'b']);
const rails = [keywordRail(['x'])];

export const guarded: Observable<string> = tokens$.pipe(guard(rails));
export const guardedLater: Observable<string> = tokens$.pipe(guard(rails, { chunkSize: 10, contextSize: 2, streamFirst: false, mode: 'chunk' }));
export const windows: Observable<ChunkBatch> = tokens$.pipe(bufferChunks({ chunkSize: 4 , contextSize: 1 }));
export const checked: Observable<CheckedBatch> = windows.pipe(checkRail(rails, { parallel: true, timeout: 500, onError: 'allow' }));
export const released: Observable<string> = checked.pipe(blockOnViolation({ mode: 'replace', replacement: 'Sorry.' }));

// @ts-expect-error guard needs a stream of strings
of(1, 2).pipe(guard(rails));
// @ts-expect-error blockOnViolation needs checked windows
windows.pipe(blockOnViolation());
// @ts-expect-error a misspelt option is caught at compile time too
tokens$.pipe(guard(rails, { stream_first: false }));
// @ts-expect-error mode is one of three
tokens$.pipe(guard(rails, { mode: 'stop' }));
// @ts-expect-error a check must answer a verdict
defineRail('bad', () => 'yes');

export const maskingRail = defineRail('mask', (text) => ({ allowed: true, rewrites: [{ index: text.indexOf('x'), length: 1, text: '*' }] }));
// @ts-expect-error a rewrite names its replacement text
defineRail('bad rewrite', () => ({ allowed: true, rewrites: [{ index: 0, length: 1 }] }));

export const asyncRail = defineRail('async', async (text, { signal }) => (signal.aborted ? false : { allowed: !text.includes('x'), reason: 'x' }));
export const observableRail = defineRail('observable', () => of(true));

export function narrow(error: unknown): string {
  if (RailViolationError.isInstance(error)) return error.info.rail;
  if (GuardrailError.isInstance(error)) return error.message;
  // @ts-expect-error not narrowed here
  return error.message;
}
