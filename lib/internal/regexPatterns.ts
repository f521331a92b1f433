// Internal: regexRail's patterns read and checked without the linear-time engine: what a pattern is, RegExp's syntax,
// matching the empty string. What RE2 cannot run (a lookahead, a backreference, a count above 1000) regexRail finds
// as it compiles them; a config read before the engine was loaded (a page that just started) learns it at warmUp or
// at its first call. The translation into RE2's syntax stays out of the core's initial bundle that way.
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { describeValue } from './validateOptions.js';

/** A pattern read and checked: RegExp's parse of it, without the `g` and `y` flags. */
export interface ReadPattern {
  /** Where it was given: `patterns` or `patterns[2]`. */
  readonly option: string;
  /** As it was given. */
  readonly pattern: unknown;
  readonly regExp: RegExp;
  /** How verdicts and messages show it: `/a+/u`. */
  readonly display: string;
}

/**
 * Reads regexRail's patterns (one, or a non-empty list).
 * @throws InvalidOptionError, worded `regexRail: <option> ...`, for a pattern that is no pattern or does not parse, or
 *   that matches the empty string.
 */
export function readPatterns(patterns: unknown): ReadPattern[] {
  const list: readonly unknown[] = Array.isArray(patterns) ? patterns : [patterns];
  if (list.length === 0) {
    throw new InvalidOptionError('patterns', patterns, 'regexRail: patterns must not be empty');
  }
  return list.map((pattern, position) => readPattern(pattern, Array.isArray(patterns) ? `patterns[${position}]` : 'patterns'));
}

function readPattern(pattern: unknown, option: string): ReadPattern {
  // RegExp parses the pattern (its messages name the problem); only the linear-time engine ever runs it on text.
  let regExp: RegExp;
  if (pattern instanceof RegExp) {
    regExp = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  } else if (typeof pattern === 'string' && pattern !== '') {
    try {
      regExp = new RegExp(pattern, 'u');
    } catch (error) {
      throw new InvalidOptionError(option, pattern, `regexRail: ${option} is not a valid regular expression: ${(error as Error).message}`);
    }
  } else {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} must be a RegExp or a non-empty pattern string, got ${describeValue(pattern)}`);
  }
  const display = String(regExp);
  // The empty string cannot make RegExp backtrack, and the translation keeps RegExp's meaning: RegExp may answer.
  if (regExp.test('')) {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} (${display}) matches the empty string, so it would block every window`);
  }
  return { option, pattern, regExp, display };
}
