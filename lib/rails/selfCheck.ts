import type { ChatModel, OutputRail, RailContext, UsageSink } from '../core/types.js';
import type { PromptTemplate } from './compilePrompt.js';
import { isContentSafe } from './contentSafetyParsers.js';
import { safetyJudgeRail } from './safetyJudge.js';

export type { PromptTemplate } from './compilePrompt.js';

/** Options of {@link selfCheckOutput} and {@link selfCheckInput}. */
export interface SelfCheckOptions {
  /** The judge. */
  readonly model: ChatModel;
  /**
   * Jinja template(s), as in NeMo's `self_check_output` / `self_check_input` prompts: `{{ bot_response }}` is the
   * window text (output), `{{ user_input }}` the user's message.
   */
  readonly prompt: PromptTemplate;
  /**
   * Where the judge's calls are recorded (task `self_check_output` / `self_check_input`), besides the pipeline's
   * `context.usage` (guard's `usage` option; LLMRails passes each call's own).
   */
  readonly usage?: UsageSink;
  /**
   * Temperature of the judge (NeMo's `lowest_temperature`).
   * @default 0.001
   */
  readonly temperature?: number;
  /**
   * `max_tokens` of the judge's answer.
   * @default 3
   */
  readonly maxTokens?: number;
  /** The rail's name; defaults to NeMo's flow name, `self check output` / `self check input`. */
  readonly name?: string;
  /**
   * How long the judge may take to answer, in ms; past it the call is aborted and the check fails (an
   * `internal_error` verdict: the window counts as blocked unless `onError: 'allow'`). `Infinity` waits for ever.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * The task its judge calls are recorded under (LLMRails passes the flow's task from its registry).
   * @default 'self_check_output' / 'self_check_input'
   */
  readonly task?: string;
}

/**
 * An output rail judged by an LLM, as NeMo's `self check output`: the judge model is asked, through the
 * prompt, whether the bot message (each window's text) should be blocked.
 *
 * The answer is read as NeMo reads it: lower-cased, runs of non-word characters collapsed, and of its first two
 * words `safe` or `no` allows, `unsafe` or `yes` blocks (in that order of precedence); anything else blocks.
 * Each judge call is recorded in `usage` with the task `self_check_output`, and aborted when the check is.
 *
 * ## Example
 * ```ts
 * import OpenAI from 'openai';
 * import { guard, openAIModel, selfCheckOutput } from 'rxguardrails';
 *
 * const judge = openAIModel(new OpenAI(), { model: 'gpt-4o-mini' });
 * const rail = selfCheckOutput({
 *   model: judge,
 *   prompt: 'Should this bot message be blocked for company policy (Yes or No)?\nBot message: "{{ bot_response }}"\nAnswer:',
 * });
 * tokens$.pipe(guard([rail], { chunkSize: 60, contextSize: 15 }));
 * ```
 */
export function selfCheckOutput(options: SelfCheckOptions): OutputRail {
  return selfCheck('selfCheckOutput', 'self check output', 'self_check_output', options, (text, context) => ({
    bot_response: text,
    user_input: context.userMessage ?? '',
  }));
}

/**
 * An input rail judged by an LLM, as NeMo's `self check input`: the judge is asked whether the user's message
 * should be blocked (`{{ user_input }}`). Parsing, usage (task `self_check_input`) and cancellation as in
 * {@link selfCheckOutput}.
 */
export function selfCheckInput(options: SelfCheckOptions): OutputRail {
  return selfCheck('selfCheckInput', 'self check input', 'self_check_input', options, (text) => ({ user_input: text }));
}

function selfCheck(
  owner: string,
  flow: string,
  defaultTask: string,
  options: SelfCheckOptions,
  variables: (text: string, context: RailContext) => Record<string, string>,
): OutputRail {
  const temperature = options?.temperature ?? 0.001;
  return safetyJudgeRail({ owner, extraKeys: ['temperature'], defaultName: flow, defaultTask, temperature, maxTokens: 3, parser: isContentSafe, variables }, options);
}
