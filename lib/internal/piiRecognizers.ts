// Internal: the pattern recognizers of sensitive data (NeMo's Presidio entities that need no language model), and
// the Presidio-style custom recognizers a config may add (`deny_list`, `patterns`). rxguardrails' own patterns, with
// Presidio's entity names, scores and validations: a card number counts only with a valid Luhn digit (then score 1),
// an IBAN only with its country's length and mod-97 check, an IP address only when its parts are in range, an SSN
// not when it is one of the numbers the SSA never issues. Every pattern runs on the linear-time engine (re2js), so a
// recognizer costs time proportional to the text, whatever the text. Offsets are UTF-16 indices, as JavaScript's.
import { ibanLength, ibanValid, luhnValid, nhsValid } from './checksums.js';
import { compileLinear, type LinearMatch, type LinearRegExp } from './linearRegExp.js';

/** One entity found in a text. */
export interface EntityFinding {
  /** Presidio's entity type: `EMAIL_ADDRESS`, `CREDIT_CARD`, ... */
  readonly entity: string;
  /** UTF-16 offsets in the text, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** 0 to 1, as Presidio scores: 1 for a validated checksum, lower for weaker patterns. */
  readonly score: number;
}

/** What a recognizer's validation says about one match: drop it, or keep it (possibly shorter, possibly rescored). */
type Refinement = { readonly length?: number; readonly score?: number } | null;

/** A recognizer: patterns with their scores, an optional validation, and the context words that raise weak scores. */
export interface Recognizer {
  readonly entity: string;
  readonly patterns: readonly { readonly regExp: LinearRegExp; readonly score: number }[];
  /** Validates a match found at `index` of `text` (it may look at the text around it). */
  readonly refine?: (match: string, text: string, index: number) => Refinement;
  /** Words that, among the five before a match, raise its score as Presidio's context enhancer does. */
  readonly context?: readonly string[];
}

/** Presidio's context enhancement: +0.35, and at least 0.4, when a context word is among the five words before. */
const CONTEXT_BOOST = 0.35;
const CONTEXT_FLOOR = 0.4;
const CONTEXT_WORDS_BEFORE = 5;

/** Every entity the recognizers find in `text`, with its score after validation and context. */
export function recognize(text: string, recognizers: readonly Recognizer[]): EntityFinding[] {
  const findings: EntityFinding[] = [];
  for (const recognizer of recognizers) {
    for (const { regExp, score } of recognizer.patterns) {
      for (const match of matchesOf(regExp, text, recognizer)) {
        const refined = match.refined;
        if (refined === null) continue;
        const end = match.index + (refined.length ?? match.text.length);
        let finalScore = refined.score ?? score;
        if (finalScore < 1 && recognizer.context && hasContext(text, match.index, recognizer.context)) {
          finalScore = Math.min(1, Math.max(finalScore + CONTEXT_BOOST, CONTEXT_FLOOR));
        }
        findings.push({ entity: recognizer.entity, start: match.index, end, score: finalScore });
      }
    }
  }
  return findings;
}

/**
 * A pattern's matches in `text`, left to right, each with its refinement. As `matchAll`, except that where a
 * refinement keeps only the start of a match (an IBAN is its country's length, and a greedy pattern may run on into the
 * next one), the search goes on from where the entity ends, not from where the match did.
 */
function* matchesOf(regExp: LinearRegExp, text: string, recognizer: Recognizer): Generator<LinearMatch & { readonly refined: Refinement }> {
  if (!recognizer.refine) {
    for (const match of regExp.matchAll(text)) yield { ...match, refined: {} };
    return;
  }
  for (let from = 0, match = regExp.execFrom(text, 0); match !== null; match = from <= text.length ? regExp.execFrom(text, from) : null) {
    const refined = match.text === '' ? null : recognizer.refine(match.text, text, match.index);
    const kept = refined?.length ?? match.text.length;
    from = match.index + Math.max(1, kept < match.text.length ? kept : match.text.length);
    if (match.text !== '') yield { ...match, refined };
  }
}

function hasContext(text: string, index: number, words: readonly string[]): boolean {
  // The five words before the match; bounded to a few hundred characters, so this costs nothing per match.
  const before = text.slice(Math.max(0, index - 200), index).toLowerCase();
  const preceding = before.split(/[^\p{L}\p{N}#]+/u).filter((word) => word !== '').slice(-CONTEXT_WORDS_BEFORE).join(' ');
  return words.some((word) => ` ${preceding} `.includes(` ${word.toLowerCase()} `));
}

function patterns(...entries: readonly (readonly [source: string, score: number])[]): Recognizer['patterns'] {
  return entries.map(([source, score]) => ({ regExp: linear(source, 'iu'), score }));
}

/** Compiles one of our own patterns (a failure is a bug here) or a config's (the caller reports it). */
export function linear(source: string, flags: string): LinearRegExp {
  const result = compileLinear(new RegExp(source, flags));
  if (result.regExp === undefined) throw new Error(`/${source}/${flags} ${result.problem}`);
  return result.regExp;
}

const isWordCharacter = (character: string | undefined) => character !== undefined && /[\p{L}\p{N}_]/u.test(character);
const digitsOf = (text: string) => text.replace(/\D/g, '');

/** Presidio's numbers that look like SSNs but are samples or never issued. */
const SAMPLE_SSNS = ['123456789', '98765432', '078051120'];

function ssn(match: string): Refinement {
  const digits = digitsOf(match);
  const separators = match.replace(/\d/g, '');
  if (new Set(separators).size > 1) return null;
  if (/^(\d)\1*$/.test(digits)) return null;
  if (digits.startsWith('000') || digits.startsWith('666') || digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return null;
  return SAMPLE_SSNS.some((sample) => digits.startsWith(sample)) ? null : {};
}

function ipv4Valid(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts.every((part) => /^(?:0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255);
}

function ipv6Valid(address: string): boolean {
  if (!/[0-9a-f]/i.test(address)) return false;
  let text = address;
  let groups = 0;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    if (!ipv4Valid(text.slice(lastColon + 1))) return false;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  for (const half of halves) {
    if (half === '') continue;
    const parts = half.split(':');
    if (!parts.every((part) => /^[0-9a-f]{1,4}$/i.test(part))) return false;
    groups += parts.length;
  }
  return halves.length === 2 ? groups < 8 : groups === 8;
}

/** Characters a URL's end is not, when it ends a sentence or a parenthesis. */
const URL_TRAILER = new Set('.,;:!?)]}\'"');

/** The length of a URL match without its trailing punctuation (found by index: a pattern anchored at `$` backtracks). */
function withoutTrailer(match: string): number {
  let end = match.length;
  while (end > 0 && URL_TRAILER.has(match[end - 1]!)) end--;
  return end;
}

const isDigit = (character: string | undefined) => character !== undefined && character >= '0' && character <= '9';
const isSeparator = (character: string | undefined) => character === ' ' || character === '.' || character === '-';

/**
 * Whether a phone number match ending at `end` is rather a piece of a longer run of digits: a digit goes on, a range
 * (`-` and a digit), or a separator and a group of four or more digits (a card's or an IBAN's next group). A list of
 * numbers, or a number and a time (`555-234-5678 9am`), is not.
 */
function digitsGoOn(text: string, end: number): boolean {
  const next = text[end];
  if (isDigit(next)) return true;
  if (!isSeparator(next) || !isDigit(text[end + 1])) return false;
  if (next === '-') return true;
  let run = 0;
  while (isDigit(text[end + 1 + run]) && run < 4) run++;
  return run >= 4;
}

/**
 * The same before a match starting at `start`: a word character or `+` touches it, a digit and `.` or `-` come just
 * before it, or it starts with a group of four digits after another group and a space (an IBAN's or a card's groups).
 * A number after another in a list (`555-234-5678 555-876-5432`) is not.
 */
function digitsCameBefore(text: string, start: number): boolean {
  const previous = text[start - 1];
  if (previous === '+' || isWordCharacter(previous)) return true;
  if (!isSeparator(previous) || !isDigit(text[start - 2])) return false;
  if (previous !== ' ') return true;
  let group = 0;
  while (isDigit(text[start + group]) && group < 5) group++;
  return group === 4;
}


let builtIns: ReadonlyMap<string, Recognizer> | undefined;

/** The built-in recognizers by entity type (compiled on first use). */
export function builtInRecognizers(): ReadonlyMap<string, Recognizer> {
  builtIns ??= new Map(
    (
      [
        {
          entity: 'EMAIL_ADDRESS',
          patterns: patterns([String.raw`[a-z0-9!#$%&'*+/=?^_\x60{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_\x60{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b`, 1]),
        },
        {
          entity: 'PHONE_NUMBER',
          // International (+country code), North American ((555) 234-5678, 555-234-5678), and national numbers with
          // a trunk 0 and separators (020 7946 0958); Presidio's phone recognizer scores 0.4.
          patterns: patterns(
            [String.raw`\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,5}\b`, 0.4],
            [String.raw`(?:\b1[ .-])?(?:\(\d{3}\)[ .-]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b`, 0.4],
            [String.raw`\b0\d{1,4}[ /.-]\d{2,4}(?:[ .-]?\d{2,4}){1,2}\b`, 0.4],
          ),
          refine: (match, text, index) => {
            // Not a piece of a longer run of digits (an IBAN's groups, a card number, a version).
            if (digitsCameBefore(text, index) || digitsGoOn(text, index + match.length)) return null;
            const digits = digitsOf(match);
            if (match.startsWith('+')) return digits.length >= 8 && digits.length <= 15 ? {} : null;
            if (match.startsWith('0')) return digits.length >= 10 && digits.length <= 12 ? {} : null;
            // North American: area code and exchange start with 2-9.
            const local = digits.length === 11 ? digits.slice(1) : digits;
            return /^[2-9]\d{2}[2-9]/.test(local) ? {} : null;
          },
          context: ['phone', 'number', 'telephone', 'cell', 'cellphone', 'mobile', 'call', 'tel', 'fax'],
        },
        {
          entity: 'CREDIT_CARD',
          patterns: patterns(
            [String.raw`\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}\b`, 0.3],
            [String.raw`\b3[47]\d{2}[ -]?\d{6}[ -]?\d{5}\b`, 0.3],
            [String.raw`\b\d{13,19}\b`, 0.3],
          ),
          refine: (match) => {
            const digits = digitsOf(match);
            return digits.length >= 13 && digits.length <= 19 && /^[1-6]/.test(digits) && luhnValid(digits) ? { score: 1 } : null;
          },
        },
        {
          entity: 'IBAN_CODE',
          patterns: patterns([String.raw`\b[a-z]{2}\d{2}(?: ?[a-z0-9]){11,30}\b`, 0.5]),
          refine: (match, text, index) => {
            const length = ibanLength(match.slice(0, 2).toUpperCase());
            if (length === undefined) return null;
            // The country's length of characters, spaces skipped: the IBAN may be followed by more letters or digits.
            let taken = 0;
            let end = 0;
            while (end < match.length && taken < length) if (match[end++] !== ' ') taken++;
            if (taken < length || isWordCharacter(text[index + end])) return null;
            return ibanValid(match.slice(0, end).replace(/ /g, '')) ? { length: end, score: 1 } : null;
          },
        },
        {
          entity: 'IP_ADDRESS',
          patterns: patterns(
            [String.raw`\b\d{1,3}(?:\.\d{1,3}){3}\b`, 0.6],
            [String.raw`[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}`, 0.6],
          ),
          refine: (match, text, index) => {
            // Not part of a longer dotted number (a version 1.2.3.4.5).
            if (!match.includes(':')) {
              const after = index + match.length;
              const dottedOn = (text[after] === '.' && isDigit(text[after + 1])) || (text[index - 1] === '.' && isDigit(text[index - 2]));
              return ipv4Valid(match) && !dottedOn ? {} : null;
            }
            const before = text[index - 1];
            const after = text[index + match.length];
            if (isWordCharacter(before) || before === ':' || before === '.' || isWordCharacter(after)) return null;
            return ipv6Valid(match) ? {} : null;
          },
          context: ['ip', 'ipv4', 'ipv6', 'address'],
        },
        {
          entity: 'US_SSN',
          patterns: patterns(
            [String.raw`\b\d{3}[- .]\d{2}[- .]\d{4}\b`, 0.5],
            [String.raw`\b\d{5}-\d{4}\b|\b\d{3}-\d{6}\b|\b\d{9}\b`, 0.05],
          ),
          refine: ssn,
          context: ['social', 'security', 'ssn', 'ssns', 'ssn#', 'ss#', 'ssid'],
        },
        {
          entity: 'US_ITIN',
          patterns: patterns(
            [String.raw`\b9\d{2}[- ](?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])[- ]\d{4}\b`, 0.5],
            [String.raw`\b9\d{2}(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])\d{4}\b`, 0.05],
          ),
          context: ['individual', 'taxpayer', 'itin', 'tax', 'payer', 'taxid', 'tin'],
        },
        {
          entity: 'UK_NHS',
          patterns: patterns([String.raw`\b\d{3}[- ]?\d{3}[- ]?\d{4}\b`, 0.5]),
          refine: (match) => (nhsValid(digitsOf(match)) ? { score: 1 } : null),
        },
        {
          entity: 'URL',
          patterns: patterns(
            [String.raw`\b(?:https?|ftp)://[^\s<>"'\x60]+`, 0.6],
            [String.raw`\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#][^\s<>"'\x60]*)?`, 0.5],
          ),
          refine: (match) => {
            const length = withoutTrailer(match);
            return length > match.indexOf('.') + 1 ? { length } : null;
          },
        },
      ] satisfies Recognizer[]
    ).map((recognizer) => [recognizer.entity, recognizer]),
  );
  return builtIns;
}

/** The entity types rxguardrails recognizes without a language model. */
export { PATTERN_ENTITIES } from './patternEntities.js';

/** A Presidio "no-code" recognizer from a config: a deny list, or patterns with scores. */
export interface CustomRecognizerSettings {
  readonly supportedEntity: string;
  readonly denyList?: readonly string[];
  /** Presidio's `deny_list_score`. @default 1 */
  readonly denyListScore?: number;
  readonly patterns?: readonly { readonly regex: string; readonly score: number }[];
  readonly context?: readonly string[];
}

/**
 * A recognizer from a config's settings: a deny list matches its words as whole words, case-insensitively (as
 * Presidio's deny-list recognizer); patterns run case-insensitively, `.` matching newlines and `^`/`$` lines
 * (Presidio's default flags). A pattern the linear-time engine cannot run throws, with `where` the index of the
 * pattern, for the caller to report.
 */
export function customRecognizer(settings: CustomRecognizerSettings): Recognizer {
  const { supportedEntity, denyList = [], denyListScore = 1, patterns: entries = [], context } = settings;
  const list: { regExp: LinearRegExp; score: number }[] = [];
  if (denyList.length > 0) {
    // Longest first, so that of two words starting at one place the whole word is tried first.
    const words = [...denyList].sort((a, b) => b.length - a.length).map((word) => word.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'));
    list.push({ regExp: linear(words.join('|'), 'iu'), score: denyListScore });
  }
  for (const { regex, score } of entries) list.push({ regExp: linear(regex, 'imsu'), score });
  const denyListPatterns = denyList.length > 0 ? list[0] : undefined;
  return {
    entity: supportedEntity,
    patterns: list,
    ...(context ? { context } : {}),
    refine: (match, text, index) => {
      if (denyListPatterns === undefined) return {};
      // Only the deny list needs whole words; a pattern's match is taken as it is.
      const denied = denyList.some((word) => word.toLowerCase() === match.toLowerCase());
      if (!denied) return {};
      const before = text[index - 1];
      const after = text[index + match.length];
      return (before === undefined || !isWordCharacter(before)) && (after === undefined || !isWordCharacter(after)) ? {} : null;
    },
  };
}
