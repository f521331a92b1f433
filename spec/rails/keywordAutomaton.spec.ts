// The automaton behind keywordRail's long lists against the RegExp alternation of the keywords (longest first, with
// the u flag), which it replaced for long lists and which still serves short ones (lib/internal/keywordMatcher.ts).
import fc from 'fast-check';
import { keywordRail, type RailContext, type RailResult } from 'rxguardrails';
import { KeywordAutomaton } from '../../lib/internal/keywordAutomaton.js';

const context = {} as RailContext;

interface Options {
  readonly caseSensitive: boolean;
  readonly wordBoundary: boolean;
}

/** The automaton's answer as the rail words it. */
function automatonCheck(keywords: readonly string[], options: Options): (text: string) => RailResult {
  const automaton = new KeywordAutomaton(keywords, options);
  return (text) => {
    const found = automaton.find(text);
    if (found === null) return true;
    const match = { text: text.slice(found.index, found.end), index: found.index };
    return { allowed: false, reason: `matched keyword ${JSON.stringify(keywords[found.keyword])}`, match };
  };
}

/** keywordRail as it was: one RegExp alternation, longest keywords first. */
function referenceCheck(keywords: readonly string[], { caseSensitive, wordBoundary }: Options): (text: string) => RailResult {
  const escape = (keyword: string) =>
    keyword
      .trim()
      .split(/\s+/)
      .map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
      .join('\\s+');
  const sorted = [...keywords].sort((a, b) => b.length - a.length);
  const flags = (caseSensitive ? '' : 'i') + 'u';
  const wrap = (body: string) => (wordBoundary ? `(?<![\\p{L}\\p{N}_])(?:${body})(?![\\p{L}\\p{N}_])` : body);
  const pattern = new RegExp(wrap(sorted.map(escape).join('|')), flags);
  const exact = sorted.map((keyword) => ({ keyword, pattern: new RegExp(`^(?:${escape(keyword)})$`, flags) }));
  return (text) => {
    const match = pattern.exec(text);
    if (match === null) return true;
    const keyword = exact.find((candidate) => candidate.pattern.test(match[0]))?.keyword ?? match[0];
    return { allowed: false, reason: `matched keyword ${JSON.stringify(keyword)}`, match: { text: match[0], index: match.index } };
  };
}

// Few characters, so keywords overlap, share prefixes and suffixes and meet in the texts; with the case pairs
// RegExp folds (ſ/s, K/k/K, ẞ/ß, ͅ/ι) and the ones it does not (ı/i), whitespace of several kinds, letters and
// digits for word boundaries, an emoji and the halves of one.
const alphabet = ['a', 'b', 'A', 'B', 'é', 'É', 's', 'S', 'ſ', 'k', 'K', '\u212a', 'ß', 'ẞ', 'ı', 'i', 'I', '\u0345', 'ι', '_', '1', '.', '-', ' ', '\n', '\u00a0', '😀', '\ud83d', '\ude00'];
const textOf = (maxLength: number) => fc.array(fc.constantFrom(...alphabet), { maxLength }).map((characters) => characters.join(''));
const keyword = textOf(5).filter((candidate) => candidate.trim() !== '');
const options = fc.record({ caseSensitive: fc.boolean(), wordBoundary: fc.boolean() });

// Keywords that never meet the texts, to take a short list past the limit of the alternation.
const filler = Array.from({ length: 40 }, (_, position) => `\u4e00${String.fromCharCode(0x4e01 + position)}\u4e00\u4e00\u4e00\u4e00\u4e00`);

describe('the keyword automaton, against the RegExp alternation', () => {
  it('should give the same verdict for any keywords, options and text', () => {
    fc.assert(
      fc.property(fc.array(keyword, { minLength: 1, maxLength: 8 }), options, fc.array(textOf(24), { minLength: 1, maxLength: 5 }), (keywords, chosen, texts) => {
        const automaton = automatonCheck(keywords, chosen);
        const reference = referenceCheck(keywords, chosen);
        for (const text of texts) expect(automaton(text)).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('should give the same verdict when the text is made of the keywords', () => {
    const generated = fc.array(keyword, { minLength: 1, maxLength: 6 }).chain((keywords) =>
      fc.tuple(
        fc.constant(keywords),
        options,
        fc.array(fc.oneof(fc.constantFrom(...keywords), textOf(2)), { maxLength: 6 }).map((parts) => parts.join('')),
      ),
    );
    fc.assert(
      fc.property(generated, ([keywords, chosen, text]) => {
        expect(automatonCheck(keywords, chosen)(text)).toEqual(referenceCheck(keywords, chosen)(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('should be what keywordRail uses for a long list, with the same verdicts', () => {
    fc.assert(
      fc.property(fc.array(keyword, { minLength: 1, maxLength: 8 }), options, textOf(24), (keywords, chosen, text) => {
        const long = [...keywords, ...filler];
        expect(keywordRail(long, chosen).check(text, context)).toEqual(referenceCheck(long, chosen)(text));
      }),
      { numRuns: 300 },
    );
  });
});
