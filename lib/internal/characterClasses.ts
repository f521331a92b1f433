// Internal: what JavaScript's RegExp counts as whitespace and as the same letter in another case. The keyword and
// regex rails match with engines of their own (linear in the text, see keywordAutomaton.ts and linearRegExp.ts);
// these keep their answers the same as RegExp's. spec/rails/characterClasses.spec.ts checks both against RegExp.

/** The code points `\s` matches (ECMAScript WhiteSpace and LineTerminator), as inclusive ranges. */
export const WHITESPACE_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** Whether `\s` matches the code point. */
export function isWhitespace(codePoint: number): boolean {
  if (codePoint <= 0x20) return codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d);
  if (codePoint < 0xa0) return false;
  return WHITESPACE_RANGES.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/**
 * The representative of the code point's case class: two code points have the same one exactly when RegExp with
 * the `iu` flags treats them as equal (Unicode simple case folding). Caseless code points are their own.
 *
 * The candidates come from the case mappings JavaScript has (`toLowerCase`, `toUpperCase`, NFC); RegExp itself
 * confirms each, so a mapping that is not a folding (dotless ı to i) is never taken. Cased code points are few (about
 * 4,000), so the answers are kept.
 */
export function foldCase(codePoint: number): number {
  if (codePoint < 0x80) return codePoint >= 0x41 && codePoint <= 0x5a ? codePoint + 0x20 : codePoint;
  const known = folded.get(codePoint);
  if (known !== undefined) return known;
  const character = String.fromCodePoint(codePoint);
  const lower = character.toLowerCase();
  const upper = character.toUpperCase();
  const composed = character.normalize('NFC');
  if (lower === character && upper === character && composed === character) return codePoint;
  let result = codePoint;
  for (const candidate of [lowerOf(single(upper)), single(lower), lowerOf(single(composed)), FOLDING_EXCEPTIONS.get(codePoint)]) {
    if (candidate !== undefined && candidate !== codePoint && new RegExp(`^\\u{${candidate.toString(16)}}$`, 'iu').test(character)) {
      result = candidate;
      break;
    }
  }
  folded.set(codePoint, result);
  return result;
}

const folded = new Map<number, number>();

/**
 * Foldings no case mapping of JavaScript reaches: U+FB05 (ſt) folds to U+FB06 (st) since Unicode 15.1, but neither
 * has a one-letter upper or lower case.
 */
const FOLDING_EXCEPTIONS: ReadonlyMap<number, number> = new Map([[0xfb05, 0xfb06]]);

/** The code point of a one-code-point string. */
function single(text: string): number | undefined {
  const codePoint = text.codePointAt(0);
  return codePoint !== undefined && text.length === (codePoint > 0xffff ? 2 : 1) ? codePoint : undefined;
}

function lowerOf(codePoint: number | undefined): number | undefined {
  return codePoint === undefined ? undefined : single(String.fromCodePoint(codePoint).toLowerCase());
}
