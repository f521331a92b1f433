import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { keywordMatcher } from '../internal/keywordMatcher.js';
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
  /**
   * `'NFKC'`: match the keywords and the text in Unicode's compatibility form, so look-alikes a model (or a user
   * who asked it to) may write match too: fullwidth `ｐａｓｓｗｏｒｄ`, ligatures (`ﬁ`), superscripts, circled letters.
   * The verdict's `match` is then the normalized text's. Costs one `String.prototype.normalize` per window.
   * @default no normalization
   */
  readonly normalize?: 'NFKC';
}

/**
 * A rail that blocks any window containing one of the given words or phrases.
 *
 * Matching is case-insensitive unless `caseSensitive` (Unicode case folding, as RegExp's with the `iu` flags);
 * whitespace inside a phrase matches any run of whitespace (`"launch code"` also blocks `"launch\n  code"`); with
 * `wordBoundary` only whole words match. Where keywords overlap, the one starting first is reported, and of those
 * starting there the longest. The verdict names the keyword and where it was found. The keywords are compiled once,
 * when the rail is made: a short list (256 characters in all) into one RegExp, which V8 scans fastest, a longer one
 * into an automaton (Aho–Corasick), so a check costs about the same per character of the window for a thousand
 * keywords or a million. The rail is synchronous, so it is marble-testable and costs no scheduling.
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
 * @param options `name` (default 'keyword'), `caseSensitive` (default false), `wordBoundary` (default false),
 *   `normalize` (`'NFKC'`, default none).
 */
export function keywordRail(keywords: readonly string[], options: KeywordRailOptions = {}): OutputRail {
  assertKnownKeys('keywordRail', options, ['name', 'caseSensitive', 'wordBoundary', 'normalize']);
  const { name = 'keyword', caseSensitive = false, wordBoundary = false, normalize } = options;
  if (normalize !== undefined && normalize !== 'NFKC') {
    throw new InvalidOptionError('normalize', normalize, `keywordRail: normalize must be 'NFKC' (or left out), got ${describeValue(normalize)}`);
  }
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

  // Built once, here (from a copy: the caller may reuse the array); a search then costs about the same per
  // character however many keywords there are.
  const list: readonly string[] = [...keywords];
  const matcher = keywordMatcher(normalize ? list.map((keyword) => keyword.normalize(normalize)) : list, { caseSensitive, wordBoundary });

  return defineRail(name, (window, context) => {
    const text = normalize ? window.normalize(normalize) : window;
    // The automaton does not search again the context the rail passed in the window before (unless normalizing
    // changed the text, whose offsets then no longer hold).
    const found = matcher.find(text, matcher.skipsPassed && !normalize ? (context?.passedPrefix ?? 0) : 0);
    if (found === null) return true;
    const keyword = list[found.keyword] ?? '';
    return { allowed: false, reason: `matched keyword ${JSON.stringify(keyword)}`, match: { text: text.slice(found.index, found.end), index: found.index } };
  });
}
