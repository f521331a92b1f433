// Internal: the release path once a rail rewrote part of a window (RailDecision.rewrites, e.g. masking). Windows
// without rewrites never get here: releaseOrBlock settles them as it always did, and switches a subscription over to
// a ledger at its first window with rewrites.
import type { CheckedBatch, RailVerdict } from '../../core/types.js';

/** Whether a rail answered rewrites for this window. Runs once per window on the release path. */
export const hasRewrites = (verdicts: readonly RailVerdict[]): boolean => verdicts.some((verdict) => verdict.rewrites !== undefined);

/** A rewritten span, in offsets of the stream's text from where the ledger started. */
interface Span {
  readonly start: number;
  end: number;
  readonly text: string;
}

/**
 * Which items may be released, and as what text, when rails rewrite spans of the windows.
 *
 * Every position of the stream's text is *owned* by one window: the one whose items the next window does not
 * re-check (window k owns its items `[k·s, (k+1)·s)`; the final window all of its own). A window decides the spans
 * that start in what it owns; a span starting in its trailing context is left to the next window, which sees it from
 * its start, with more text after it. So an entity of at most `contextSize + 1` items is decided by a window that
 * holds it whole: its owner's window reaches `contextSize` items past the item it starts in. A later window's span
 * that overlaps a decided one extends it (the earlier span's text stands for both), as do overlapping spans of several
 * rails of one window (the first-starting, then the longest, then the earlier rail's text).
 *
 * After window k, a decided span ending past what k owns can still be extended by window k + 1, so the release stops
 * short of the item where that span starts; every item before it is final and goes out with its spans replaced, each
 * span's text once, in the item where the span starts (an item wholly inside a span is not emitted). The raw text of
 * a span is never released, in part or whole. On completion everything held goes out, with the spans the last window
 * found in its trailing context (no window came after it to decide them).
 */
export class RewriteLedger {
  /** Items not released yet, oldest first; the first starts at `heldStart`. */
  private readonly items: string[];
  private heldStart = 0;
  /** Where the text of the items seen so far ends. */
  private end = 0;
  /** Decided spans not released yet, in order, not overlapping. */
  private readonly spans: Span[] = [];
  /** Spans the last window found in its trailing context, for completion if no window follows. */
  private pending: Span[] = [];
  /** How far the released text accounts for the stream's text (a released span may end inside a held item). */
  private releasedTo = 0;

  /** `held`: the items the previous windows left unreleased, which begin the next window. */
  constructor(held: readonly string[]) {
    this.items = held.slice();
    for (const item of held) this.end += item.length;
  }

  /** Takes a passed window; answers the texts to release now, in order. */
  settle(batch: CheckedBatch): string[] {
    const { items } = this;
    for (const chunk of batch.chunks) {
      items.push(chunk);
      this.end += chunk.length;
    }
    const windowStart = this.end - batch.text.length;
    // Where what this window owns ends: before its trailing `overlap` items, which the next window re-checks.
    let owned = this.end;
    for (let position = items.length - 1, trailing = batch.overlap; trailing > 0 && position >= 0; position--, trailing--) owned -= items[position]!.length;

    const found = spansOf(batch.verdicts, windowStart);
    this.pending = found.filter((span) => span.start >= owned);
    for (const span of found) if (span.start < owned) this.decide(span);

    const last = this.spans.at(-1);
    // Only the last span can reach past `owned` (they are in order and do not overlap).
    return this.release(last !== undefined && last.end > owned ? last.start : owned);
  }

  /** The source completed: everything held, with the spans the last window left to a next window. */
  finish(): string[] {
    for (const span of this.pending) this.decide(span);
    this.pending = [];
    return this.release(Infinity);
  }

  private decide(span: Span): void {
    const last = this.spans.at(-1);
    if (last !== undefined && span.start < last.end) last.end = Math.max(last.end, span.end);
    else this.spans.push(span);
  }

  /** Releases the items that end at or before `limit`. */
  private release(limit: number): string[] {
    const released: string[] = [];
    const { items, spans } = this;
    while (items.length > 0 && this.heldStart + items[0]!.length <= limit) {
      const item = items.shift()!;
      const start = this.heldStart;
      const end = start + item.length;
      let cursor = Math.max(start, this.releasedTo);
      let text = '';
      while (spans.length > 0 && spans[0]!.start < end) {
        const span = spans.shift()!;
        // A span starting where the text was already accounted for continues a released one: no text of its own.
        if (span.start >= cursor) text += item.slice(cursor - start, span.start - start) + span.text;
        cursor = Math.max(cursor, span.end);
      }
      if (cursor < end) text += item.slice(cursor - start);
      this.releasedTo = Math.max(cursor, end);
      this.heldStart = end;
      // An item wholly inside a span has nothing of its own to show; an empty item goes out as it came.
      if (text !== '' || item === '') released.push(text);
    }
    return released;
  }
}

/** The spans of the verdicts' rewrites in the ledger's offsets, in order: first-starting, then longest, then rail order. */
function spansOf(verdicts: readonly RailVerdict[], windowStart: number): Span[] {
  const spans: Span[] = [];
  for (const verdict of verdicts) {
    for (const rewrite of verdict.rewrites ?? []) {
      const start = windowStart + rewrite.index;
      spans.push({ start, end: start + rewrite.length, text: rewrite.text });
    }
  }
  return spans.sort((a, b) => a.start - b.start || b.end - a.end);
}
