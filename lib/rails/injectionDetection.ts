import type { OutputRail, RailDecision } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { compileLinear, type LinearRegExp } from '../internal/linearRegExp.js';
import { assertKnownKeys, assertOneOf, assertRailName, describeValue } from '../internal/validateOptions.js';
import { defineRail } from './defineRail.js';

/** NeMo's built-in injection rule sets. */
export const INJECTION_RULES = ['code', 'sqli', 'template', 'xss'] as const;
export type InjectionRule = (typeof INJECTION_RULES)[number];

// rxguardrails' own patterns for the classes of payload NeMo's bundled YARA rules look for (not a translation of
// them). Each runs on the linear-time engine (re2js, see internal/linearRegExp.ts), so no window, however
// adversarial, costs more than time proportional to its length; all are case-insensitive.
const RULES: Readonly<Record<InjectionRule, readonly string[]>> = {
  // Code that runs commands or code: Python's dynamic imports and process calls, eval/exec, JavaScript's
  // child_process, Java's Runtime.exec, shell pipes into a shell, destructive shell commands, unpickling.
  code: [
    String.raw`__import__\s*\(`,
    String.raw`\b(?:os|subprocess|commands|pty)\s*\.\s*(?:system|popen\d?|run|call|check_call|check_output|getoutput|getstatusoutput|spawn\w*|exec\w*|Popen)\s*\(`,
    String.raw`\b(?:eval|exec|execfile|compile)\s*\(\s*(?:['"]|base64|bytes|__|compile|open|input|request)`,
    String.raw`\bchild_process\b|\b(?:execSync|spawnSync|execFileSync)\s*\(`,
    String.raw`\bRuntime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\b|\bnew\s+ProcessBuilder\s*\(`,
    String.raw`\b(?:curl|wget|fetch)\b[^\n|;]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b`,
    String.raw`\brm\s+-(?:rf|fr|r\s+-f|f\s+-r)\s+(?:/|~|\*|\$HOME)`,
    String.raw`/bin/(?:ba|z|da|k)?sh\b|\bnc\s+(?:-\w+\s+)*-e\s`,
    String.raw`\b(?:pickle|cPickle|marshal|dill)\s*\.\s*loads?\s*\(|\byaml\s*\.\s*(?:unsafe_)?load\s*\([^)]*Loader\s*=\s*yaml\s*\.\s*(?:Unsafe|Full)?Loader`,
    String.raw`\bshell\s*=\s*True\b`,
  ],
  // SQL injection: quote-breaking tautologies, UNION SELECT, stacked destructive statements, comment truncation,
  // time-based probes, and server-side file and command primitives.
  sqli: [
    String.raw`['"]\s*\)*\s*(?:or|and|\|\||&&)\s+\(*\s*(?:['"]?\w*['"]?\s*(?:=|<>|!=|<=|>=|like)\s*['"]?\w*|true|false|not\b|\d+\s*(?:--|#|$))`,
    String.raw`\b(?:or|and)\s+(\d+)\s*=\s*\d+\s*(?:--|#|/\*|;|$)`,
    String.raw`\bunion\s+(?:all\s+|distinct\s+)?select\b`,
    String.raw`;\s*(?:drop|delete|truncate|alter|insert|update|create|exec(?:ute)?|shutdown|grant|revoke)\s+(?:table|database|from|into|\w+\s+set|user|schema|\w)`,
    String.raw`['"]\s*\)*\s*;?\s*(?:--|#|/\*)|;\s*--`,
    String.raw`\b(?:sleep|benchmark|pg_sleep)\s*\(\s*\d|\bwaitfor\s+delay\s+'`,
    String.raw`\bxp_cmdshell\b|\binformation_schema\s*\.|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|\bsqlite_master\b`,
  ],
  // Server-side template injection: Jinja/Twig expressions reaching Python internals or globals, arithmetic
  // probes, Java EL / log4j lookups, ERB/JSP scriptlets, Ruby interpolation running commands.
  template: [
    String.raw`\{\{[^}]*(?:__\w+__|\b(?:config|self|request|lipsum|cycler|joiner|namespace|url_for|get_flashed_messages|os|popen|import|subprocess|getattr|attr)\b)[^}]*\}\}`,
    String.raw`\{%[^%]*(?:__\w+__|\bimport\b|\binclude\b|\bexec\b|\bpopen\b|\bsystem\b)[^%]*%\}`,
    String.raw`\{\{\s*\d+\s*[*+]\s*\d+\s*\}\}|\$\{\s*\d+\s*\*\s*\d+\s*\}`,
    String.raw`\$\{[^}]*(?:jndi:|Runtime|getClass|ProcessBuilder|\bT\s*\(|exec\s*\()[^}]*\}`,
    String.raw`<%=?[^%]*(?:Runtime|exec|system|eval|IO\.popen|%x|\x60)[^%]*%>`,
    String.raw`#\{[^}]*(?:system|exec|spawn|IO\.popen|%x|\x60)[^}]*\}`,
  ],
  // Cross-site scripting: script tags, javascript: URLs, inline event handlers, frames and objects that load
  // documents, and markdown images whose URL carries data out (query parameters to a remote host).
  xss: [
    String.raw`<\s*/?\s*script\b`,
    String.raw`\b(?:javascript|vbscript)\s*:`,
    String.raw`<[a-z][^>]*[\s/"']on[a-z]+\s*=`,
    String.raw`<\s*(?:iframe|frame|object|embed|applet|base|meta\s[^>]*http-equiv)\b`,
    String.raw`\bsrcdoc\s*=|\bdata\s*:\s*text/html\b|\bexpression\s*\(`,
    String.raw`!\[[^\]]*\]\(\s*<?https?://[^)\s]*[?&][^)\s]*=`,
  ],
};

/** Options of {@link injectionDetection}. */
export interface InjectionDetectionOptions {
  /** The rule sets to apply: any of `code`, `sqli`, `template`, `xss`; at least one. */
  readonly injections: readonly InjectionRule[];
  /**
   * `reject` blocks a window in which a rule matches. `omit` (NeMo removes the matched text and lets the answer go
   * on) blocks too: rxguardrails cannot take text out of an answer, and while streaming the text may already be
   * released, so the safe reading of "do not let this through" is to stop; the verdict says so.
   * @default 'reject'
   */
  readonly action?: 'reject' | 'omit';
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'injection detection'
   */
  readonly name?: string;
}

/**
 * A rail that blocks text carrying an injection payload, as NeMo's `injection detection` output rail: code that
 * runs commands (`code`), SQL injection (`sqli`), server-side template injection (`template`), cross-site scripting
 * and markdown-image exfiltration (`xss`).
 *
 * NeMo matches YARA rules; rxguardrails has its own patterns for the same classes of payload, run on a
 * linear-time engine. The verdict's reason is NeMo's answer, naming the rule sets that matched ("the desired output
 * triggered rule(s) designed to mitigate exploitation of sqli, xss."), its `match` the first match. The rail is
 * synchronous.
 *
 * ## Example
 * ```ts
 * import { guard, injectionDetection } from 'rxguardrails';
 *
 * tokens$.pipe(guard([injectionDetection({ injections: ['sqli', 'xss'] })]));
 * ```
 *
 * @param options `injections` (required), `action` (default 'reject'), `name` (default 'injection detection').
 * @throws InvalidOptionError for an empty or unknown rule set, or an unknown action.
 */
export function injectionDetection(options: InjectionDetectionOptions): OutputRail {
  const owner = 'injectionDetection';
  assertKnownKeys(owner, options, ['injections', 'action', 'name']);
  const { injections, action = 'reject', name = 'injection detection' } = options;
  assertRailName(owner, 'name', name);
  assertOneOf(owner, 'action', action, ['reject', 'omit'] as const);
  if (!Array.isArray(injections) || injections.length === 0) {
    throw new InvalidOptionError('injections', injections, `${owner}: injections must be a non-empty list of ${INJECTION_RULES.join(', ')}, got ${describeValue(injections)}`);
  }
  const rules = injections.map((rule: unknown, position) => {
    if (!INJECTION_RULES.includes(rule as InjectionRule)) {
      throw new InvalidOptionError(
        `injections[${position}]`,
        rule,
        `${owner}: injections[${position}] is ${describeValue(rule)}, not one of the built-in rule sets ${INJECTION_RULES.join(', ')}`,
      );
    }
    return { rule: rule as InjectionRule, pattern: compiledRule(rule as InjectionRule) };
  });
  const omitted = action === 'omit' ? ' (action omit: rxguardrails cannot remove text from an answer, so it blocks)' : '';

  return defineRail(name, (text): RailDecision | true => {
    let first: { text: string; index: number } | undefined;
    const matched: InjectionRule[] = [];
    for (const { rule, pattern } of rules) {
      const match = pattern.exec(text);
      if (match === null) continue;
      if (!matched.includes(rule)) matched.push(rule);
      if (first === undefined || match.index < first.index) first = match;
    }
    if (first === undefined) return true;
    return {
      allowed: false,
      reason: `the desired output triggered rule(s) designed to mitigate exploitation of ${matched.join(', ')}.${omitted}`,
      // Where it matched, and the match's start only: an exfiltration link carries the data it steals in its query.
      match: { text: quotedMatch(first.text), index: first.index },
      details: { rules: matched },
    };
  });
}

/** A match as a verdict shows it: up to its first `?` (a URL's query), at most 64 characters. */
function quotedMatch(text: string): string {
  const query = text.indexOf('?');
  return text.slice(0, Math.min(query === -1 ? text.length : query, 64));
}

const compiled = new Map<InjectionRule, LinearRegExp>();

/** A rule set's patterns as one alternation, compiled once per process. */
function compiledRule(rule: InjectionRule): LinearRegExp {
  let regExp = compiled.get(rule);
  if (regExp === undefined) {
    const result = compileLinear(new RegExp(RULES[rule].map((pattern) => `(?:${pattern})`).join('|'), 'iu'));
    // The patterns are ours: a failure here is a bug in this file, not a user's mistake.
    if (result.regExp === undefined) throw new Error(`injection rule set ${rule}: ${result.problem}`);
    regExp = result.regExp;
    compiled.set(rule, regExp);
  }
  return regExp;
}
