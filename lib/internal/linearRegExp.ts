// Internal: JavaScript regular expressions on a linear-time engine. RegExp backtracks, so a pattern like (a+)+$ takes
// time exponential in the length of a window that almost matches, and with the u flag V8 has no linear fallback:
// one window of 31 characters held the process for 13.5 s. re2js (RE2's automata in plain JavaScript, so the core
// still bundles for browsers) matches in time linear in the text; regexTranslation.ts puts patterns, written in
// JavaScript's syntax, into RE2's.
import { RE2JS, RE2JSException } from 're2js';
import { translateForLinear } from './regexTranslation.js';

/** A match as RegExp#exec reports it: the matched text and its index in UTF-16 code units. */
export interface LinearMatch {
  readonly text: string;
  readonly index: number;
}

/** A pattern compiled for the linear-time engine. */
export interface LinearRegExp {
  /** The leftmost match (among those starting there, the one RegExp would pick), or null. */
  exec(text: string): LinearMatch | null;
  /** Every match, left to right, none overlapping (as `String#matchAll` with the g flag); an empty match is skipped. */
  matchAll(text: string): LinearMatch[];
  /** The leftmost match starting at `start` or after (what comes before `start` still counts for `\b` and lookbehinds). */
  execFrom(text: string, start: number): LinearMatch | null;
}

/** The compiled pattern, or why it cannot run in linear time, worded to follow the pattern's name. */
export type LinearCompilation = { readonly regExp: LinearRegExp; readonly problem?: undefined } | { readonly regExp?: undefined; readonly problem: string };

/** Compiles a RegExp for the linear-time engine; its `g`, `y` and `d` flags are ignored. */
export function compileLinear(regExp: RegExp): LinearCompilation {
  const { translation, problem } = translateForLinear(regExp);
  if (translation === undefined) return { problem };
  const flags =
    (regExp.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (regExp.multiline ? RE2JS.MULTILINE : 0) | (translation.lookbehind ? RE2JS.LOOKBEHINDS : 0);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(translation.pattern, flags);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    const reason = error.message.replace(/^error parsing regexp: /, '');
    const hint = reason.includes('repeat count') ? ' (counted repetitions may repeat at most 1000 times, nested counts multiplied)' : '';
    return { problem: `cannot run on the linear-time engine: ${reason}${hint}` };
  }
  return {
    regExp: {
      exec(text) {
        // test() runs on the engine's DFA; only a window that matches pays for finding where.
        if (!compiled.test(text)) return null;
        const matcher = compiled.matcher(text);
        return matcher.find() ? { text: matcher.group() ?? '', index: matcher.start() } : null;
      },
      execFrom(text, start) {
        const matcher = compiled.matcher(text);
        return matcher.find(start) ? { text: matcher.group() ?? '', index: matcher.start() } : null;
      },
      matchAll(text) {
        const matches: LinearMatch[] = [];
        if (!compiled.test(text)) return matches;
        const matcher = compiled.matcher(text);
        while (matcher.find()) {
          const found = matcher.group() ?? '';
          if (found !== '') matches.push({ text: found, index: matcher.start() });
        }
        return matches;
      },
    },
  };
}
