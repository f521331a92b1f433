import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { compileLinear, type LinearRegExp } from '../internal/linearRegExp.js';
import { type ReadPattern, readPatterns } from '../internal/regexPatterns.js';
import { assertKnownKeys, assertRailName } from '../internal/validateOptions.js';
import { defineRail } from './defineRail.js';
import type { OutputRail } from '../core/types.js';

/** Options of {@link regexRail}. */
export interface RegexRailOptions {
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'regex'
   */
  readonly name?: string;
}

/**
 * A rail that blocks any window in which one of the given regular expressions matches.
 *
 * Patterns may be `RegExp`s or source strings (compiled with the `u` flag), in JavaScript's syntax, and they run on
 * a linear-time engine (RE2's automata, via re2js): no pattern can take more than time proportional to the window,
 * where RegExp's backtracking takes exponential time on `(a+)+$`. So lookaheads and backreferences, which no
 * linear-time engine runs, are rejected when the rail is created; lookbehinds run. The `i`, `m` and `s` flags keep
 * their meaning; the `g` and `y` flags are dropped: they make `RegExp` objects remember where the last search ended,
 * which would make a rail's answer depend on the windows it saw before. Matching goes by code point, and
 * case-insensitive matching by Unicode case folding, as RegExp does with the `u` flag; with the `m` flag only `\n`
 * ends a line for `^` and `$`. The verdict names the pattern and where it matched (a UTF-16 index, as RegExp's).
 * The rail is synchronous.
 *
 * ## Example
 * ```ts
 * import { guard, regexRail } from 'rxguardrails';
 *
 * const noCards = regexRail([/\b(?:\d[ -]?){13,16}\b/, 'sk-[A-Za-z0-9]{20,}'], { name: 'secrets' });
 * tokens$.pipe(guard([noCards]));
 * ```
 *
 * @param patterns One pattern or a non-empty list of them.
 * @param options `name` (default 'regex').
 * @throws InvalidOptionError for a pattern that does not compile, matches the empty string, or uses what the
 *   linear-time engine cannot run (a lookahead, a backreference, the `v` flag, a count above 1000).
 */
export function regexRail(patterns: RegExp | string | readonly (RegExp | string)[], options: RegexRailOptions = {}): OutputRail {
  assertKnownKeys('regexRail', options, ['name']);
  const { name = 'regex' } = options;
  assertRailName('regexRail', 'name', name);
  const compiled = readPatterns(patterns).map(compile);

  return defineRail(name, (text) => {
    for (const { display, regExp } of compiled) {
      const match = regExp.exec(text);
      if (match !== null) {
        return { allowed: false, reason: `matched pattern ${display}`, match: { text: match.text, index: match.index } };
      }
    }
    return true;
  });
}

function compile({ option, pattern, regExp: parsed, display }: ReadPattern): { display: string; regExp: LinearRegExp } {
  const { regExp, problem } = compileLinear(parsed);
  // readPatterns found the rest; what is left is what the linear-time engine cannot run.
  if (regExp === undefined) throw new InvalidOptionError(option, pattern, `regexRail: ${option} (${display}) ${problem}`);
  return { display, regExp };
}
