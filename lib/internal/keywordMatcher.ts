// Internal: how keywordRail finds its keywords. A few keywords are one RegExp alternation, which V8 scans with its
// own shortcuts (a window of 800 characters in well under a microsecond); a longer list is an Aho–Corasick automaton
// (keywordAutomaton.ts), whose cost per character does not grow with the list. An alternation of literals cannot
// backtrack catastrophically: each position costs at most the keywords' total length, which the limit bounds.
import { isWhitespace } from './characterClasses.js';
import { KeywordAutomaton, type KeywordAutomatonOptions, type KeywordMatch } from './keywordAutomaton.js';

/** Keywords of at most this many UTF-16 units in all go to RegExp. */
const ALTERNATION_LIMIT = 256;

export interface KeywordMatcher {
  /**
   * The first match in the text, or null. `passed`: how many characters at its start are known to hold no match
   * (RailContext.passedPrefix); only matches ending after them are looked for, and the text before the first place
   * one of those could start is not read.
   */
  find(text: string, passed?: number): KeywordMatch | null;
  /**
   * Whether `passed` saves anything. Not for the RegExp, which scans a window of 800 characters in about half a
   * microsecond: measuring the passed part (a sum over the window's items, a comparison) cost as much as skipping a
   * quarter of the scan saved (the core bench: incrementalScan). The automaton reads each character itself.
   */
  readonly skipsPassed: boolean;
}

/** A matcher for the keywords (non-empty, not only whitespace), built now. */
export function keywordMatcher(keywords: readonly string[], options: KeywordAutomatonOptions): KeywordMatcher {
  const total = keywords.reduce((sum, keyword) => sum + keyword.length, 0);
  if (total <= ALTERNATION_LIMIT) return alternation(keywords, options);
  const automaton = new KeywordAutomaton(keywords, options);
  // A match holds the characters of one keyword (case folding maps a code point to one code point) with any run of
  // whitespace where the keyword has whitespace: its reach back is counted in code points other than whitespace.
  const reach = keywords.reduce((longest, keyword) => Math.max(longest, nonWhitespaceCodePoints(keyword)), 0);
  return {
    find: (text, passed = 0) => automaton.find(text, passed > 0 ? earliestStart(text, passed, reach) : 0),
    skipsPassed: true,
  };
}

/**
 * The earliest place a match ending after `passed` can start. Such a match ends with a character of its keyword
 * at `passed` or after (a keyword ends with one that is not whitespace), so it starts at most `reach - 1` such
 * characters before; one more is counted for a surrogate pair that `passed` may split. Whitespace between them is
 * walked over, whatever its length. A match starts on a character that is not whitespace, which is where this stops.
 */
function earliestStart(text: string, passed: number, reach: number): number {
  let index = Math.min(passed, text.length);
  for (let counted = 0; index > 0 && counted < reach; ) {
    index--;
    if ((text.charCodeAt(index) & 0xfc00) === 0xdc00 && index > 0 && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800) index--;
    if (!isWhitespace(text.codePointAt(index) ?? 0)) counted++;
  }
  return index;
}

function nonWhitespaceCodePoints(keyword: string): number {
  let count = 0;
  for (const character of keyword) if (!isWhitespace(character.codePointAt(0) ?? 0)) count++;
  return count;
}

/** The keywords as one RegExp, longest first (so a phrase is reported rather than a shorter keyword in it). */
function alternation(keywords: readonly string[], { caseSensitive, wordBoundary }: KeywordAutomatonOptions): KeywordMatcher {
  const order = keywords.map((_, position) => position).sort((a, b) => (keywords[b]?.length ?? 0) - (keywords[a]?.length ?? 0));
  // The u flag: matching by code point, and case folding as the automaton does it.
  const flags = (caseSensitive ? '' : 'i') + 'u';
  const body = order.map((position) => pattern(keywords[position] ?? '')).join('|');
  const search = new RegExp(wordBoundary ? `(?<![\\p{L}\\p{N}_])(?:${body})(?![\\p{L}\\p{N}_])` : body, flags);
  const exact = order.map((position) => ({ position, pattern: new RegExp(`^(?:${pattern(keywords[position] ?? '')})$`, flags) }));
  return {
    // The whole text, always (see skipsPassed).
    find(text) {
      const match = search.exec(text);
      if (match === null) return null;
      const keyword = exact.find((candidate) => candidate.pattern.test(match[0]))?.position ?? 0;
      return { keyword, index: match.index, end: match.index + match[0].length };
    },
    skipsPassed: false,
  };
}

function pattern(keyword: string): string {
  return keyword
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join('\\s+');
}
