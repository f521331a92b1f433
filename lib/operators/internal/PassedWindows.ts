// Internal: what each rail of a WindowChecker passed last, so that a window's context is not scanned again
// (RailContext.passedPrefix).
import type { ChunkBatch, RailVerdict } from '../../core/types.js';

/**
 * Windows are numbered as their checks start (the order they are reported in). A rail is told a window's context
 * as passed only when it passed the window numbered just before, and only as far as the window's text starts with
 * the end of that window's text: so it holds for guard's windows, for bufferChunks' and for any a user makes,
 * whatever their `chunks` say. Checks answering out of order (`concurrency`) only lose the saving, never the check.
 */
export class PassedWindows {
  /** Per rail position: the number of the last window it passed, and that window's text. */
  private readonly numbers: number[];
  private readonly texts: string[];
  private started = 0;
  /** The passed prefix of the window numbered `measuredNumber`, measured once for all its rails. */
  private measuredNumber = -1;
  private measured = 0;

  constructor(rails: number) {
    this.numbers = new Array<number>(rails).fill(-1);
    this.texts = new Array<string>(rails).fill('');
  }

  /** A window's check starts: its number. */
  start(): number {
    return this.started++;
  }

  /** The rail at `position` answered on window `number` (with `text`): a `'pass'` counts, nothing else does. */
  answered(position: number, number: number, text: string, verdict: RailVerdict): void {
    if (verdict.kind !== 'pass' || number <= this.numbers[position]!) return;
    this.numbers[position] = number;
    this.texts[position] = text;
  }

  /** How much of window `number`'s text the rail at `position` already passed. */
  prefix(position: number, number: number, batch: ChunkBatch): number {
    if (this.numbers[position] !== number - 1) return 0;
    if (this.measuredNumber !== number) {
      this.measuredNumber = number;
      this.measured = repeatedEnd(this.texts[position]!, batch);
    }
    return this.measured;
  }
}

/** The length of the window's context when the text starts with the end of `previous`, else 0. */
function repeatedEnd(previous: string, batch: ChunkBatch): number {
  const { text, chunks } = batch;
  let fresh = 0;
  for (let position = 0; position < chunks.length; position++) fresh += chunks[position]!.length;
  const context = text.length - fresh;
  if (context <= 0 || context > previous.length) return 0;
  return text.slice(0, context) === previous.slice(previous.length - context) ? context : 0;
}
