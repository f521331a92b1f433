import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertBoolean, assertKnownKeys, assertRailName, describeValue } from '../internal/validateOptions.js';
import { defineRail } from './defineRail.js';
import type { OutputRail } from '../core/types.js';

/** Options of {@link keywordRail}. */
export interface KeywordRailOptions {
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'keyword'
   */
  readonly name?: string;
  /**
   * Match letter case exactly.
   * @default false
   */
  readonly caseSensitive?: boolean;
  /**
   * Only match whole words: "ass" then does not block "assist". Letters, digits and `_` of any script count as
   * word characters.
   * @default false
   */
  readonly wordBoundary?: boolean;
}

/**
 * A rail that blocks any window containing one of the given words or phrases.
 *
 * Matching is case-insensitive unless `caseSensitive`; whitespace inside a phrase matches any run of whitespace
 * (`"launch code"` also blocks `"launch\n  code"`); with `wordBoundary` only whole words match. The verdict names
 * the keyword and where it was found. The rail is synchronous, so it is marble-testable and costs no scheduling.
 *
 * ## Example
 * ```ts
 * import { guard, keywordRail } from 'rxguardrails';
 *
 * const rail = keywordRail(['password', 'launch code'], { wordBoundary: true });
 * tokens$.pipe(guard([rail]));
 * ```
 *
 * @param keywords Words or phrases; at least one, none empty.
 * @param options `name` (default 'keyword'), `caseSensitive` (default false), `wordBoundary` (default false).
 */
export function keywordRail(keywords: readonly string[], options: KeywordRailOptions = {}): OutputRail {
  assertKnownKeys('keywordRail', options, ['name', 'caseSensitive', 'wordBoundary']);
  const { name = 'keyword', caseSensitive = false, wordBoundary = false } = options;
  assertRailName('keywordRail', 'name', name);
  assertBoolean('keywordRail', 'caseSensitive', caseSensitive);
  assertBoolean('keywordRail', 'wordBoundary', wordBoundary);
  if (!Array.isArray(keywords) || keywords.length === 0) {
    throw new InvalidOptionError('keywords', keywords, `keywordRail: keywords must be a non-empty array of strings, got ${describeValue(keywords)}`);
  }
  keywords.forEach((keyword: unknown, position) => {
    if (typeof keyword !== 'string' || keyword.trim() === '') {
      throw new InvalidOptionError(
        `keywords[${position}]`,
        keyword,
        `keywordRail: keywords[${position}] must be a non-empty string, got ${describeValue(keyword)}`,
      );
    }
  });

  // Longest first, so a phrase is reported rather than a shorter keyword inside it.
  const sorted = [...keywords].sort((a, b) => b.length - a.length);
  // The Unicode flag is only needed for the word-boundary classes, and it makes case-insensitive scans slower.
  const flags = (caseSensitive ? '' : 'i') + (wordBoundary ? 'u' : '');
  const wrap = (body: string) => (wordBoundary ? `(?<![\\p{L}\\p{N}_])(?:${body})(?![\\p{L}\\p{N}_])` : body);
  const pattern = new RegExp(wrap(sorted.map(keywordPattern).join('|')), flags);
  const exact = sorted.map((keyword) => ({ keyword, pattern: new RegExp(`^(?:${keywordPattern(keyword)})$`, flags) }));

  return defineRail(name, (text) => {
    const match = pattern.exec(text);
    if (match === null) return true;
    const keyword = exact.find((candidate) => candidate.pattern.test(match[0]))?.keyword ?? match[0];
    return { allowed: false, reason: `matched keyword ${JSON.stringify(keyword)}`, match: { text: match[0], index: match.index } };
  });
}

function keywordPattern(keyword: string): string {
  return keyword
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join('\\s+');
}
