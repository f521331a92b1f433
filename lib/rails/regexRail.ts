import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertRailName, describeValue } from '../internal/validateOptions.js';
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
 * Patterns may be `RegExp`s or source strings (compiled with the `u` flag). The `g` and `y` flags are dropped:
 * they make `RegExp` objects remember where the last search ended, which would make a rail's answer depend on the
 * windows it saw before. The verdict names the pattern and where it matched. The rail is synchronous.
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
 */
export function regexRail(patterns: RegExp | string | readonly (RegExp | string)[], options: RegexRailOptions = {}): OutputRail {
  assertKnownKeys('regexRail', options, ['name']);
  const { name = 'regex' } = options;
  assertRailName('regexRail', 'name', name);
  const list: readonly unknown[] = Array.isArray(patterns) ? patterns : [patterns];
  if (list.length === 0) {
    throw new InvalidOptionError('patterns', patterns, 'regexRail: patterns must not be empty');
  }
  const compiled = list.map((pattern, position) => compile(pattern, Array.isArray(patterns) ? `patterns[${position}]` : 'patterns'));

  return defineRail(name, (text) => {
    for (const pattern of compiled) {
      const match = pattern.exec(text);
      if (match !== null) {
        return { allowed: false, reason: `matched pattern ${String(pattern)}`, match: { text: match[0], index: match.index } };
      }
    }
    return true;
  });
}

function compile(pattern: unknown, option: string): RegExp {
  let compiled: RegExp;
  if (pattern instanceof RegExp) {
    compiled = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  } else if (typeof pattern === 'string' && pattern !== '') {
    try {
      compiled = new RegExp(pattern, 'u');
    } catch (error) {
      throw new InvalidOptionError(option, pattern, `regexRail: ${option} is not a valid regular expression: ${(error as Error).message}`);
    }
  } else {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} must be a RegExp or a non-empty pattern string, got ${describeValue(pattern)}`);
  }
  if (compiled.test('')) {
    throw new InvalidOptionError(option, pattern, `regexRail: ${option} (${String(compiled)}) matches the empty string, so it would block every window`);
  }
  return compiled;
}
