// Internal: JavaScript regular expressions on a linear-time engine. RegExp backtracks, so a pattern like (a+)+$ takes
// time exponential in the length of a window that almost matches, and with the u flag V8 has no linear fallback:
// one window of 31 characters held the process for 13.5 s. re2js (RE2's automata in plain JavaScript, so the core
// still bundles for browsers) matches in time linear in the text. Patterns stay in JavaScript's syntax: this file
// translates them into RE2's, keeping RegExp's meaning (its `\s`, its `.`, its case folding with the u flag), and
// rejects by name what RE2 cannot run in linear time: lookaheads and backreferences. Lookbehinds without captures
// re2js runs in linear time too; captures mean nothing to a rail (it reports the whole match), so every group is
// translated as non-capturing, and any lookbehind RegExp accepts runs.
import { RE2JS, RE2JSException } from 're2js';
import { WHITESPACE_RANGES } from './characterClasses.js';

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
}

/** The compiled pattern, or why it cannot run in linear time, worded to follow the pattern's name. */
export type LinearCompilation = { readonly regExp: LinearRegExp; readonly problem?: undefined } | { readonly regExp?: undefined; readonly problem: string };

/** Compiles a RegExp for the linear-time engine; its `g`, `y` and `d` flags are ignored. */
export function compileLinear(regExp: RegExp): LinearCompilation {
  if (regExp.flags.includes('v')) return { problem: 'uses the v flag, which regexRail does not support; write the pattern for the u flag' };
  let translation: Translation;
  try {
    translation = translate(regExp.source, regExp.unicode, regExp.dotAll);
  } catch (error) {
    if (error instanceof Unsupported) return { problem: error.message };
    throw error;
  }
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

/** What the linear-time engine cannot do; the message follows the pattern's name. */
class Unsupported extends Error {}

interface Translation {
  /** The pattern in RE2's syntax. */
  readonly pattern: string;
  /** Whether it has a lookbehind: re2js runs those only when asked to. */
  readonly lookbehind: boolean;
}

/** A set of code points as the inside of an RE2 class (`0-9`, `\p{L}`); empty for the empty set. */
interface CodePointSet {
  readonly body: string;
}

const ALL = '\\x{0}-\\x{10ffff}';
const NOTHING = `[^${ALL}]`;
const DIGIT: CodePointSet = { body: '0-9' };
const WORD: CodePointSet = { body: '0-9A-Za-z_' };
const WHITESPACE: CodePointSet = { body: WHITESPACE_RANGES.map(([first, last]) => range(first, last)).join('') };
const NOT_WHITESPACE: CodePointSet = { body: complement(WHITESPACE_RANGES).map(([first, last]) => range(first, last)).join('') };
/** `.` without the s flag: anything but the four line terminators. */
const NOT_LINE_TERMINATOR = `[^${range(0x0a, 0x0a)}${range(0x0d, 0x0d)}${range(0x2028, 0x2029)}]`;

/**
 * Translates a pattern RegExp has accepted (so only its meaning is in question here) into RE2's syntax. Without the
 * u flag a pattern follows Annex B of ECMAScript (`\p` is a p, a `{` that is no quantifier is a brace, `\12` may be
 * an octal escape); either way the translation matches by code point, as RegExp does with the u flag.
 */
function translate(source: string, unicode: boolean, dotAll: boolean): Translation {
  const groups = countGroups(source);
  let position = 0;
  let lookbehind = false;
  let output = '';

  const peek = (offset = 0): string => source[position + offset] ?? '';
  const rest = (): string => source.slice(position);
  const takeCodePoint = (): number => {
    const codePoint = source.codePointAt(position) ?? 0;
    position += codePoint > 0xffff ? 2 : 1;
    return codePoint;
  };

  /** After `\u`: `{...}` with the u flag, or four hex digits (a surrogate pair written as two escapes is one). */
  const unicodeEscape = (): number | undefined => {
    const braced = unicode ? /^\{([0-9a-fA-F]+)\}/.exec(rest()) : null;
    if (braced) {
      position += braced[0].length;
      return parseInt(braced[1] ?? '', 16);
    }
    const pair = /^([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(rest());
    if (pair) {
      position += pair[0].length;
      return 0x10000 + ((parseInt(pair[1] ?? '', 16) - 0xd800) << 10) + (parseInt(pair[2] ?? '', 16) - 0xdc00);
    }
    const unit = /^[0-9a-fA-F]{4}/.exec(rest());
    if (!unit) return undefined;
    position += 4;
    return parseInt(unit[0], 16);
  };

  /** The escape after a backslash, but for assertions and backreferences: one code point, or a set of them. */
  const escape = (inClass: boolean): number | CodePointSet => {
    const letter = peek();
    position++;
    switch (letter) {
      case 'd':
        return DIGIT;
      case 'D':
        return { body: '\\D' };
      case 'w':
        return WORD;
      case 'W':
        return { body: '\\W' };
      case 's':
        return WHITESPACE;
      case 'S':
        return NOT_WHITESPACE;
      case 'p':
      case 'P': {
        if (!unicode) return letter.charCodeAt(0);
        const end = source.indexOf('}', position);
        const name = source.slice(position + 1, end);
        position = end + 1;
        return property(letter === 'P', name);
      }
      case 't':
        return 0x09;
      case 'n':
        return 0x0a;
      case 'v':
        return 0x0b;
      case 'f':
        return 0x0c;
      case 'r':
        return 0x0d;
      case 'b':
        return 0x08; // a backspace: \b reaches here only inside a class
      case 'u':
        return unicodeEscape() ?? 0x75;
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(rest());
        if (!hex) return 0x78;
        position += 2;
        return parseInt(hex[0], 16);
      }
      case 'c': {
        const control = peek();
        if (/[A-Za-z]/.test(control) || (inClass && !unicode && /[0-9_]/.test(control))) {
          position++;
          return control.charCodeAt(0) % 32;
        }
        position--; // Annex B: a backslash, and the c is read as itself next
        return 0x5c;
      }
      default:
        position--;
        if (/[0-9]/.test(letter)) return numericEscape();
        return takeCodePoint(); // a syntax character, or without the u flag any character, as itself
    }
  };
  /** `\0`, or without the u flag a legacy octal escape (`\12`, `\377`) or `\8`, `\9` as themselves. */
  const numericEscape = (): number => {
    if (unicode) {
      position++;
      return 0;
    }
    const octal = /^[0-3][0-7]{0,2}|^[4-7][0-7]?/.exec(rest());
    if (!octal) return takeCodePoint();
    position += octal[0].length;
    return parseInt(octal[0], 8);
  };

  const characterClass = (): string => {
    const negated = peek() === '^';
    if (negated) position++;
    let body = '';
    while (peek() !== ']') {
      const first = classAtom();
      if (peek() === '-' && peek(1) !== ']') {
        position++;
        const last = classAtom();
        // Without the u flag [\w-x] is \w, '-' and x.
        body += typeof first === 'number' && typeof last === 'number' ? range(first, last) : member(first) + range(0x2d, 0x2d) + member(last);
      } else {
        body += member(first);
      }
    }
    position++;
    if (body === '') return negated ? `[${ALL}]` : NOTHING;
    return `[${negated ? '^' : ''}${body}]`;
  };
  const classAtom = (): number | CodePointSet => {
    if (peek() !== '\\') return takeCodePoint();
    position++;
    return escape(true);
  };

  /** After `\`: the number of a backreference, if it is one (without the u flag `\12` may be octal instead). */
  const backreference = (): string | undefined => {
    const named = /^k<[^>]*>/.exec(rest());
    if (named && (unicode || groups.named)) return `\\${named[0]}`;
    const number = /^[1-9][0-9]*/.exec(rest());
    if (number && (unicode || Number(number[0]) <= groups.count)) return `\\${number[0]}`;
    return undefined;
  };

  while (position < source.length) {
    const character = peek();
    switch (character) {
      case '\\': {
        position++;
        const reference = backreference();
        if (reference !== undefined) throw new Unsupported(`uses a backreference (${reference}), which the linear-time engine does not support`);
        if (peek() === 'b' || peek() === 'B') {
          output += `\\${peek()}`;
          position++;
        } else {
          output += atom(escape(false));
        }
        break;
      }
      case '[':
        position++;
        output += characterClass();
        break;
      case '(': {
        const opening = /^\((?:\?(?:<[=!]|[=!:]|<[^>]*>|[^:)]*:?))?/.exec(rest())?.[0] ?? '(';
        position += opening.length;
        if (opening === '(?=' || opening === '(?!') {
          const negative = opening === '(?!' ? 'negative ' : '';
          throw new Unsupported(`uses a ${negative}lookahead (${opening.slice(1)}…), which the linear-time engine does not support`);
        }
        if (opening === '(?<=' || opening === '(?<!') {
          lookbehind = true;
          output += opening;
        } else if (opening === '(' || opening === '(?:' || opening.startsWith('(?<')) {
          output += '(?:'; // the rail reports the whole match, so no group captures
        } else {
          throw new Unsupported(`uses a modifier group (${opening.slice(1)}…), which regexRail does not support; use the pattern's flags`);
        }
        break;
      }
      case '{': {
        const quantifier = /^\{\d+(?:,\d*)?\}/.exec(rest());
        if (quantifier) position += quantifier[0].length;
        output += quantifier ? quantifier[0] : literal(takeCodePoint()); // Annex B: a brace that quantifies nothing
        break;
      }
      case '.':
        position++;
        output += dotAll ? `[${ALL}]` : NOT_LINE_TERMINATOR;
        break;
      case ')':
      case '|':
      case '*':
      case '+':
      case '?':
      case '^':
      case '$':
        position++;
        output += character;
        break;
      default:
        output += literal(takeCodePoint());
    }
  }
  return { pattern: output, lookbehind };
}

/** An escape as an RE2 atom. */
function atom(value: number | CodePointSet): string {
  if (typeof value === 'number') return literal(value);
  return value.body === '' ? NOTHING : `[${value.body}]`;
}

/** An escape or a code point inside an RE2 class. */
function member(value: number | CodePointSet): string {
  return typeof value === 'number' ? range(value, value) : value.body;
}

/** A code point as an RE2 literal: ASCII letters and digits as themselves, anything else by number. */
function literal(codePoint: number): string {
  const isAlphanumeric = (codePoint >= 0x30 && codePoint <= 0x39) || (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a);
  return isAlphanumeric ? String.fromCharCode(codePoint) : `\\x{${codePoint.toString(16)}}`;
}

function range(first: number, last: number): string {
  return first === last ? `\\x{${first.toString(16)}}` : `\\x{${first.toString(16)}}-\\x{${last.toString(16)}}`;
}

function complement(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const result: [number, number][] = [];
  let next = 0;
  for (const [first, last] of ranges) {
    if (first > next) result.push([next, first - 1]);
    next = last + 1;
  }
  if (next <= 0x10ffff) result.push([next, 0x10ffff]);
  return result;
}

/** The capturing groups, to tell a backreference from an octal escape without the u flag. */
function countGroups(source: string): { readonly count: number; readonly named: boolean } {
  let count = 0;
  let named = false;
  let inClass = false;
  for (let position = 0; position < source.length; position++) {
    const character = source[position];
    if (character === '\\') position++;
    else if (character === '[') inClass = true;
    else if (character === ']') inClass = false;
    else if (character === '(' && !inClass) {
      if (source[position + 1] !== '?') count++;
      else if (source[position + 2] === '<' && source[position + 3] !== '=' && source[position + 3] !== '!') {
        count++;
        named = true;
      }
    }
  }
  return { count, named };
}

/**
 * A `\p{...}` or `\P{...}` as a set, read off RegExp itself: every property RegExp knows works, with the meaning
 * (and the Unicode version) RegExp gives it. RE2's own `\P` would also differ under the i flag: RegExp folds the
 * case of the complement, RE2 complements the folded property, so `\P{Ll}` would stop matching lower-case letters.
 */
function property(negated: boolean, name: string): CodePointSet {
  let ranges = propertyRanges.get(name);
  if (ranges === undefined) {
    ranges = codePointsMatching(new RegExp(`\\p{${name}}+`, 'gu'));
    propertyRanges.set(name, ranges);
  }
  return { body: (negated ? complement(ranges) : ranges).map(([first, last]) => range(first, last)).join('') };
}

const propertyRanges = new Map<string, readonly (readonly [number, number])[]>();

/** The code points a `\p{...}+` pattern (flags g and u) matches, as sorted, inclusive ranges. */
function codePointsMatching(pattern: RegExp): [number, number][] {
  const ranges: [number, number][] = [];
  // Every code point in order, surrogates apart: as UTF-16 text they would pair up. A run of matches is a range.
  for (const [first, last] of [
    [0, 0xd7ff],
    [0xe000, 0x10ffff],
  ] as const) {
    const chunks: string[] = [];
    for (let start = first; start <= last; start += 0x2000) {
      const end = Math.min(last, start + 0x1fff);
      const units = new Uint16Array((end - start + 1) * (start > 0xffff ? 2 : 1));
      for (let codePoint = start, index = 0; codePoint <= end; codePoint++) {
        if (codePoint > 0xffff) {
          units[index++] = 0xd800 + ((codePoint - 0x10000) >> 10);
          units[index++] = 0xdc00 + ((codePoint - 0x10000) & 0x3ff);
        } else {
          units[index++] = codePoint;
        }
      }
      chunks.push(Reflect.apply(String.fromCharCode, null, units) as string);
    }
    for (const match of chunks.join('').matchAll(pattern)) {
      const text = match[0];
      const lastCodePoint = text.codePointAt(text.length - 1) ?? 0;
      ranges.push([text.codePointAt(0) ?? 0, lastCodePoint >= 0xdc00 && lastCodePoint <= 0xdfff ? (text.codePointAt(text.length - 2) ?? 0) : lastCodePoint]);
    }
  }
  const single = new RegExp(`^(?:${pattern.source})$`, 'u');
  for (let surrogate = 0xd800; surrogate <= 0xdfff; surrogate++) {
    if (single.test(String.fromCharCode(surrogate))) ranges.push([surrogate, surrogate]);
  }
  return ranges.sort(([a], [b]) => a - b);
}
