// The release of rewritten text (RailDecision.rewrites) computed from its definition, as the reference the
// operators are held to, and a tokenizer that keeps each span on a bounded number of items.

/**
 * The items the release gives for `items` when `spans` (offsets in the whole text) are rewritten: each item with
 * the spans replaced, a span's text in the item where it starts, an item wholly inside a span left out.
 */
export function releasedItems(items: readonly string[], spans: readonly { start: number; end: number; text: string }[]): string[] {
  const released: string[] = [];
  let start = 0;
  let accounted = 0;
  for (const item of items) {
    const end = start + item.length;
    let cursor = Math.max(start, accounted);
    let text = '';
    for (const span of spans) {
      if (span.start < start || span.start >= end) continue;
      text += item.slice(cursor - start, span.start - start) + span.text;
      cursor = span.end;
    }
    if (cursor < end) text += item.slice(cursor - start);
    accounted = Math.max(cursor, end);
    if (text !== '' || item === '') released.push(text);
    start = end;
  }
  return released;
}

/** Cuts `text` into items at `cuts` (repeats make empty items), keeping each span on at most `maxItems` items. */
export function tokenize(text: string, cuts: readonly number[], spans: readonly { start: number; end: number }[], maxItems: number): string[] {
  const inside = new Map<number, number>();
  const kept = [...cuts]
    .map((cut) => cut % (text.length + 1))
    .sort((a, b) => a - b)
    .filter((cut) => {
      const span = spans.findIndex(({ start, end }) => start < cut && cut < end);
      if (span === -1) return true;
      const count = inside.get(span) ?? 0;
      if (count + 1 >= maxItems) return false;
      inside.set(span, count + 1);
      return true;
    });
  return [0, ...kept].map((cut, position) => text.slice(cut, kept[position] ?? text.length));
}
