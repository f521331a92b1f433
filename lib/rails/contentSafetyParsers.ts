// Internal: NeMo's output parsers of content-safety judges (nemoguardrails/llm/output_parsers.py), by their config
// names, and the answer rules of the topic-safety and Llama Guard judges. Each reads an answer as NeMo does and
// never throws: an answer NeMo cannot parse (NeMo raises "Failed to parse content safety model response") is a
// verdict that blocks, so every unparseable answer fails closed.
//
// Python's regular expressions are Unicode-aware where JavaScript's are not: `\w`, `\b`, `\s` and `str.strip()` are
// spelled out below as Python reads them, since a JavaScript `\w` that stops before `é` would read
// `Prompt harm: unharmfulé` as `unharmful` and allow what NeMo blocks.
import type { SafetyParserName } from './safetyParserNames.js';

/** A judge's verdict: safe or not, and the policy categories it named. */
export interface SafetyVerdict {
  readonly safe: boolean;
  /** The categories the judge gave (`S1`, `S17: Malware`), or why the answer could not be read. */
  readonly violations: readonly string[];
}

/** Reads a judge's whole answer. */
export type SafetyParser = (answer: string) => SafetyVerdict;

/** What an unreadable answer is reported as (NeMo's 2025 releases' category for it). */
export const PARSE_FAILURE = 'Failed to parse content safety model response';

/** Python's `str.isspace()` characters: what `\s` and `strip()` mean there. */
const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's `\w` in a Unicode pattern: letters, digits and numbers of every script, and `_`. */
const WORD = '\\p{L}\\p{N}_';
const NON_WORDS = new RegExp(`[^${WORD}]+`, 'gu');
const SPACE_CLASS = new RegExp(`^[${SPACE}]$`, 'u');

// Every parser here reads an answer a model wrote, so each runs in time linear in it: a pattern such as `\s+$` or a
// line-anchored `^\s*` backtracks on a long run of spaces or newlines (80,000 spaces: 6 s), so edges, lines and
// reasoning blocks are found by index instead.

/** Whether a UTF-16 unit is one of Python's `isspace()` characters (all of them are in the BMP). */
function isPythonSpace(unit: number): boolean {
  return unit <= 0x20 ? unit >= 0x09 && (unit <= 0x0d || unit >= 0x1c) : unit >= 0x85 && SPACE_CLASS.test(String.fromCharCode(unit));
}

/** Python's `str.strip()`. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Whether only spaces (Python's) stand between `index` and the start of its line: Python's `^\s*` under MULTILINE. */
function startsItsLine(text: string, index: number): boolean {
  for (let at = index - 1; at >= 0 && text.charCodeAt(at) !== 0x0a; at--) if (!isPythonSpace(text.charCodeAt(at))) return false;
  return true;
}

/** The first match of a global `pattern` that starts its line (but for spaces), or undefined. */
function firstAtLineStart(pattern: RegExp, text: string): RegExpExecArray | undefined {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (startsItsLine(text, match.index)) return match;
    pattern.lastIndex = match.index + 1;
  }
  return undefined;
}

const safe: SafetyVerdict = { safe: true, violations: [] };
const unsafe = (violations: readonly string[] = []): SafetyVerdict => ({ safe: false, violations });
const failed = unsafe([PARSE_FAILURE]);

/**
 * NeMo's `is_content_safe`: of the first two words (lower-cased, runs of non-word characters made one space), `safe`
 * allows, `unsafe` blocks with the words after it as categories, `yes` blocks, `no` allows, in that order; anything
 * else blocks.
 */
export function isContentSafe(answer: string): SafetyVerdict {
  const words = pythonStrip(answer.toLowerCase()).replace(NON_WORDS, ' ').split(' ').slice(0, 2);
  if (words.includes('safe')) return safe;
  if (words.includes('unsafe')) {
    const original = pythonStrip(answer).replace(NON_WORDS, ' ');
    const at = original.toLowerCase().indexOf('unsafe');
    return unsafe(at === -1 ? [] : original.slice(at + 'unsafe'.length).split(new RegExp(`[${SPACE}]+`, 'u')).filter((word) => word !== ''));
  }
  return words.includes('yes') || !words.includes('no') ? unsafe() : safe;
}

/**
 * NeMo's `nemoguard_parse_prompt_safety` / `_response_safety`: the whole answer is one JSON object (`json.loads`:
 * no fences, no prose around it); its `field` lower-cased equals `safe` → allowed; else blocked with the
 * comma-separated `Safety Categories`, each stripped. Invalid JSON, a missing or non-string verdict, or non-string
 * categories: unparseable.
 */
function nemoguard(field: 'User Safety' | 'Response Safety'): SafetyParser {
  return (answer) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      return failed;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return failed;
    const verdict = Object.hasOwn(parsed, field) ? (parsed as Record<string, unknown>)[field] : undefined;
    const categories: unknown = Object.hasOwn(parsed, 'Safety Categories') ? (parsed as Record<string, unknown>)['Safety Categories'] : '';
    if (typeof verdict !== 'string' || typeof categories !== 'string') return failed;
    if (verdict.toLowerCase() === 'safe') return safe;
    return unsafe(Object.hasOwn(parsed, 'Safety Categories') ? categories.split(',').map(pythonStrip) : []);
  };
}

/** Drops `<think>…</think>` reasoning blocks, then strips (NeMo's `_strip_think_tags`); an unterminated one stays. */
function withoutThinking(answer: string): string {
  let kept = '';
  let from = 0;
  for (let open = answer.indexOf('<think>'); open !== -1; open = answer.indexOf('<think>', from)) {
    const close = answer.indexOf('</think>', open + '<think>'.length);
    if (close === -1) break;
    kept += answer.slice(from, open);
    from = close + '</think>'.length;
  }
  return pythonStrip(kept + answer.slice(from));
}

/**
 * NeMo's `nemotron_reasoning_parse_*` (Nemotron-Content-Safety-Reasoning-4B): reasoning blocks dropped, the word
 * after `Prompt harm:` / `Response Harm:` (case-insensitive); `unharmful` allows, anything else (or no field) blocks.
 */
function nemotronReasoning(field: string): SafetyParser {
  const pattern = new RegExp(`${field}[${SPACE}]*:[${SPACE}]*([${WORD}]+)`, 'iu');
  return (answer) => (pattern.exec(withoutThinking(answer))?.[1]?.toLowerCase() === 'unharmful' ? safe : unsafe());
}

/**
 * NeMo's `nemotron_content_safety_parse_*` (Nemotron 3.5 content safety, plain lines): reasoning blocks dropped (one
 * left unterminated: unparseable); either verdict field stated twice anywhere: unparseable; the line-anchored
 * `User Safety:` / `Response Safety:` with `safe` or `unsafe` (missing: unparseable); categories from the
 * `Safety Categories:` line.
 */
function nemotronContentSafety(field: 'User Safety' | 'Response Safety'): SafetyParser {
  // Python's `^` under MULTILINE starts a line after `\n` only, and `\b` is Unicode-aware.
  const mention = (name: string) => `${name}[${SPACE}]*:[${SPACE}]*(safe|unsafe)(?![${WORD}])`;
  const line = new RegExp(mention(field), 'giu');
  const mentions = ['User Safety', 'Response Safety'].map((name) => new RegExp(mention(name), 'giu'));
  const categories = new RegExp(`Safety Categories[${SPACE}]*:[${SPACE}]*([^\\n]*)`, 'giu');
  return (answer) => {
    const text = withoutThinking(answer);
    if (text.includes('<think>') || mentions.some((pattern) => (text.match(pattern)?.length ?? 0) > 1)) return failed;
    const verdict = firstAtLineStart(line, text)?.[1];
    if (verdict === undefined) return failed;
    if (verdict.toLowerCase() === 'safe') return safe;
    const listed = firstAtLineStart(categories, text)?.[1] ?? '';
    return unsafe(listed.split(',').map(pythonStrip).filter((category) => category !== ''));
  };
}

/** The output parsers a content-safety prompt may name (`output_parser:`), by NeMo's names. */
export const SAFETY_PARSERS: Readonly<Record<SafetyParserName, SafetyParser>> = {
  is_content_safe: isContentSafe,
  nemoguard_parse_prompt_safety: nemoguard('User Safety'),
  nemoguard_parse_response_safety: nemoguard('Response Safety'),
  nemotron_reasoning_parse_prompt_safety: nemotronReasoning('Prompt harm'),
  nemotron_reasoning_parse_response_safety: nemotronReasoning('Response Harm'),
  nemotron_content_safety_parse_prompt_safety: nemotronContentSafety('User Safety'),
  nemotron_content_safety_parse_response_safety: nemotronContentSafety('Response Safety'),
};

/**
 * The Llama Guard flows' own rule (`parse_llama_guard_response`): lower-cased and stripped, an answer starting with
 * `safe` allows (`safety` too, as in NeMo), one starting with `unsafe` blocks with the space-separated words after it
 * as categories; anything else blocks.
 */
export function llamaGuardVerdict(answer: string): SafetyVerdict {
  const text = pythonStrip(answer.toLowerCase());
  if (text.startsWith('safe')) return safe;
  if (!text.startsWith('unsafe')) return unsafe();
  return unsafe(pythonStrip(text.split('unsafe')[1]!).split(' '));
}

/** The topic-safety rule: only an answer that is `off-topic` (lower-cased, stripped) blocks. NeMo fails open here. */
export function isOnTopic(answer: string): boolean {
  return pythonStrip(answer.toLowerCase()) !== 'off-topic';
}
