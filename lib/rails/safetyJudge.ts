// Internal: a rail that renders a prompt, asks a judge and reads its answer with a parser: what self check, content
// safety and Llama Guard have in common (they differ in prompt variables, parser, temperature and max_tokens).
import { map, type Observable } from 'rxjs';
import type { OutputRail, RailContext, RailDecision } from '../core/types.js';
import { assertKnownKeys } from '../internal/validateOptions.js';
import { askJudge, assertJudgeSettings, assertPositiveInteger, type JudgeSettings, quotedAnswer } from './askJudge.js';
import { compilePrompt, type PromptTemplate, type PromptVariables } from './compilePrompt.js';
import type { SafetyParser } from './contentSafetyParsers.js';
import { defineRail } from './defineRail.js';

/** The options every prompt-and-parser judged rail takes. */
export interface SafetyJudgeOptions extends JudgeSettings {
  /** Jinja template(s): one template is sent as a user message; a list as chat messages. */
  readonly prompt: PromptTemplate;
  /** `max_tokens` of the judge's answer (undefined: not sent). */
  readonly maxTokens?: number;
  /** Stop sequences sent to the judge (the prompt's `stop`). */
  readonly stop?: readonly string[];
}

/** How one kind of judged rail differs from the others. */
export interface SafetyJudgeKind {
  /** The factory's name, for messages (`contentSafetyCheckOutput`). */
  readonly owner: string;
  /** The options it takes besides {@link SafetyJudgeOptions}'. */
  readonly extraKeys: readonly string[];
  readonly defaultName: string;
  readonly defaultTask: string;
  readonly temperature: number;
  readonly maxTokens: number | undefined;
  readonly parser: SafetyParser;
  readonly variables: (text: string, context: RailContext) => PromptVariables;
}

/**
 * A rail asking the judge with the rendered prompt, and allowing the window only when the parser reads the answer as
 * safe. The decision's reason quotes the answer; its details hold the categories the judge named.
 */
export function safetyJudgeRail(kind: SafetyJudgeKind, options: SafetyJudgeOptions): OutputRail {
  const { owner } = kind;
  assertKnownKeys(owner, options, ['model', 'prompt', 'usage', 'maxTokens', 'stop', 'name', 'task', 'timeoutMs', ...kind.extraKeys]);
  assertJudgeSettings(owner, options);
  const { name = kind.defaultName, task = kind.defaultTask, maxTokens = kind.maxTokens, stop } = options;
  assertPositiveInteger(owner, 'maxTokens', maxTokens);
  const render = compilePrompt(owner, options.prompt);
  const parameters = { temperature: kind.temperature, max_tokens: maxTokens, stop };
  return defineRail(name, (text, context): Observable<RailDecision> =>
    askJudge({ ...options, task }, render(kind.variables(text, context)), parameters, context).pipe(
      map((answer): RailDecision => {
        const { safe, violations } = kind.parser(answer);
        const reason = `the judge answered ${quotedAnswer(answer)}`;
        return violations.length === 0 ? { allowed: safe, reason } : { allowed: safe, reason, details: { policyViolations: violations } };
      }),
    ),
  );
}
