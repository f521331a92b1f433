// Internal: how keywordRail finds its keywords. A few keywords are one RegExp alternation, which V8 scans with its
// own shortcuts (a window of 800 characters in well under a microsecond); a longer list is an Aho–Corasick automaton
// (keywordAutomaton.ts), whose cost per character does not grow with the list. An alternation of literals cannot
// backtrack catastrophically: each position costs at most the keywords' total length, which the limit bounds.
import { KeywordAutomaton, type KeywordAutomatonOptions, type KeywordMatch } from './keywordAutomaton.js';

/** Keywords of at most this many UTF-16 units in all go to RegExp. */
const ALTERNATION_LIMIT = 256;

export interface KeywordMatcher {
  /** The first match in the text, or null. */
  find(text: string): KeywordMatch | null;
}

/** A matcher for the keywords (non-empty, not only whitespace), built now. */
export function keywordMatcher(keywords: readonly string[], options: KeywordAutomatonOptions): KeywordMatcher {
  const total = keywords.reduce((sum, keyword) => sum + keyword.length, 0);
  return total <= ALTERNATION_LIMIT ? alternation(keywords, options) : new KeywordAutomaton(keywords, options);
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
    find(text) {
      const match = search.exec(text);
      if (match === null) return null;
      const keyword = exact.find((candidate) => candidate.pattern.test(match[0]))?.position ?? 0;
      return { keyword, index: match.index, end: match.index + match[0].length };
    },
  };
}

function pattern(keyword: string): string {
  return keyword
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join('\\s+');
}
