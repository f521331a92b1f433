// Internal: regexRail's patterns read and checked without the linear-time engine. Everything a pattern can get wrong
// is found here (RegExp's syntax, what RE2 cannot run, matching the empty string) except the engine's own limits
// (counted repetitions above 1000), so a config is checked at load before the engine is loaded.
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { translateForLinear } from './regexTranslation.js';
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
 * @throws InvalidOptionError, worded `regexRail: <option> ...`, for a pattern that is no pattern or does not parse,
 *   that uses what the linear-time engine cannot run, or that matches the empty string.
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
  const { problem } = translateForLinear(regExp);
  if (problem !== undefined) {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} (${display}) ${problem}`);
  }
  // The empty string cannot make RegExp backtrack, and the translation keeps RegExp's meaning: RegExp may answer.
  if (regExp.test('')) {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} (${display}) matches the empty string, so it would block every window`);
  }
  return { option, pattern, regExp, display };
}
