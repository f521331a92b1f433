// Internal: guard over a stream of AI SDK parts. The text deltas become an Observable<string> that guard checks
// (windows, streamFirst, rails: nothing re-implemented here); what guard releases is mapped back onto the parts, so
// text keeps its block ids and the text-start / text-delta / text-end protocol, and every other part (tool calls,
// reasoning, sources, finish) keeps its place relative to the text around it.
import { catchError, concat, concatMap, connect, defer, filter, from, map, merge, type Observable, throwError } from 'rxjs';
import type { ViolationSettings, GuardSettings } from '../../operators/internal/settings.js';
import { guardWith } from '../../operators/internal/guardWith.js';
import { RailViolationError } from '../../errors/RailViolationError.js';

/** The parts both protocols share (the model's stream parts and streamText's): text blocks and errors. */
export type TextPart =
  | { readonly type: 'text-start'; readonly id: string }
  | { readonly type: 'text-end'; readonly id: string }
  | { readonly type: 'text-delta'; readonly id: string }
  | { readonly type: 'error'; readonly error: unknown };

/** What differs between the model's stream parts (`delta`) and streamText's parts (`text`), and how each ends. */
export interface PartProtocol<Part extends { readonly type: string }> {
  /** The text of a text-delta part. */
  deltaText(part: Part): string;
  /** A text part (the block's id kept) carrying `text`. */
  textPart(part: TextPart, text?: string): Part;
  /** Sees every part as it arrives from upstream (usage, character counts). */
  arrived(part: Part): void;
  /** Sees every part as it is released downstream (which steps are open). */
  released(part: Part): void;
  /** The parts that end a stream stopped by `error`, after its open text blocks were closed. */
  ending(error: RailViolationError): readonly Part[];
  /** Called once when a violation stops the stream, before the upstream is unsubscribed. */
  stop?(): void;
}

type Entry<Part> = { readonly text: true; readonly id: string; remaining: number } | { readonly text: false; readonly part: Part };

/** The parts of one stream waiting for the text before them to be released; lives as long as one subscription. */
class PartQueue<Part extends { readonly type: string }> {
  private readonly entries: Entry<Part>[] = [];
  private readonly open: string[] = [];
  private extraBlocks = 0;

  constructor(private readonly protocol: PartProtocol<Part>) {}

  /** Queues a part; returns what can go now (everything up to the first text still held). */
  arrive(part: Part): Part[] {
    this.protocol.arrived(part);
    if (part.type === 'text-delta') {
      const length = this.protocol.deltaText(part).length;
      if (length > 0) this.entries.push({ text: true, id: (part as unknown as { id: string }).id, remaining: length });
    } else {
      this.entries.push({ text: false, part });
    }
    return this.drain();
  }

  /**
   * Maps text guard released onto the held deltas, oldest first, by length (guard releases items as they came, so
   * this is exact; a rail's rewrite that changes the length shifts the block boundaries after it by the difference).
   */
  release(text: string): Part[] {
    const out = this.drain();
    let rest = text;
    while (rest.length > 0) {
      const head = this.entries[0];
      if (head?.text !== true) {
        // Text beyond what was held (a lengthening rewrite): into the last open block, or a block of its own.
        out.push(...this.orphanText(rest));
        break;
      }
      const piece = rest.slice(0, head.remaining);
      out.push(this.emit(this.protocol.textPart({ type: 'text-delta', id: head.id }, piece)));
      head.remaining -= piece.length;
      rest = rest.slice(piece.length);
      if (head.remaining === 0) this.entries.shift();
      out.push(...this.drain());
    }
    return out;
  }

  /** At the end of the text: what is left (text a shortening rewrite did not use is dropped). */
  flush(): Part[] {
    const out: Part[] = [];
    for (const entry of this.entries.splice(0)) if (!entry.text) out.push(this.emit(entry.part));
    return out;
  }

  /** After a violation: the blocked text rendered per mode, the open blocks closed, the protocol's ending. */
  block(error: RailViolationError, violation: ViolationSettings): Part[] {
    this.entries.length = 0;
    const out: Part[] = [];
    if (violation.mode === 'error') {
      for (const id of [...this.open]) out.push(this.emit(this.protocol.textPart({ type: 'text-end', id })));
      out.push(this.emit(this.protocol.textPart({ type: 'error', error })));
    } else {
      out.push(...this.orphanText(violation.mode === 'chunk' ? error.toChunk() : violation.replacement));
      for (const id of [...this.open]) out.push(this.emit(this.protocol.textPart({ type: 'text-end', id })));
    }
    for (const part of this.protocol.ending(error)) out.push(this.emit(part));
    return out;
  }

  private orphanText(text: string): Part[] {
    const id = this.open.at(-1);
    if (id !== undefined) return [this.emit(this.protocol.textPart({ type: 'text-delta', id }, text))];
    const own = `rxguardrails-${this.extraBlocks++}`;
    return [
      this.emit(this.protocol.textPart({ type: 'text-start', id: own })),
      this.emit(this.protocol.textPart({ type: 'text-delta', id: own }, text)),
      this.emit(this.protocol.textPart({ type: 'text-end', id: own })),
    ];
  }

  private drain(): Part[] {
    const out: Part[] = [];
    while (this.entries.length > 0 && !this.entries[0]!.text) out.push(this.emit((this.entries.shift() as { part: Part }).part));
    return out;
  }

  private emit(part: Part): Part {
    const { type } = part;
    if (type === 'text-start') this.open.push((part as unknown as { id: string }).id);
    if (type === 'text-end') {
      const at = this.open.indexOf((part as unknown as { id: string }).id);
      if (at >= 0) this.open.splice(at, 1);
    }
    this.protocol.released(part);
    return part;
  }
}

/**
 * Guards the text of a part stream. `settings.violation` says how a block is shown; guard itself always runs in
 * mode 'error' here, so the bridge knows a block from text (a replacement is then written as text of the open block).
 * On a block the source is unsubscribed at once (the upstream stops) and the stream ends with the protocol's ending.
 */
export function guardParts<Part extends { readonly type: string }>(
  parts$: Observable<Part>,
  settings: GuardSettings,
  protocol: PartProtocol<Part>,
): Observable<Part> {
  const checking: GuardSettings = { ...settings, violation: { mode: 'error', replacement: settings.violation.replacement } };
  return defer(() => {
    const queue = new PartQueue(protocol);
    return parts$.pipe(
      connect((shared$) =>
        merge(
          // Subscribed first: each part is queued before guard (possibly synchronously) releases its text.
          shared$.pipe(concatMap((part) => from(queue.arrive(part)))),
          concat(
            shared$.pipe(
              filter((part) => part.type === 'text-delta'),
              map((part) => protocol.deltaText(part)),
              filter((text) => text.length > 0),
              guardWith(checking),
              concatMap((text) => from(queue.release(text))),
            ),
            defer(() => from(queue.flush())),
          ),
        ),
      ),
      catchError((error: unknown) => {
        if (!RailViolationError.isInstance(error)) return throwError(() => error);
        protocol.stop?.();
        return from(queue.block(error, settings.violation));
      }),
    );
  });
}
