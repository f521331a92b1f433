import { Template } from '@huggingface/jinja';
import { map, type Observable, reduce, throwError, timeout } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, assertRailName, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import type { ChatMessage, ChatModel, OutputRail, RailContext, RailDecision, UsageSink } from '../core/types.js';
import { fanOut } from '../usage/fanOut.js';
import { defineRail } from './defineRail.js';

/** A prompt: one template (sent as a user message), or chat messages whose contents are templates. */
export type PromptTemplate = string | readonly { readonly role: string; readonly content: string }[];

/** Options of {@link selfCheckOutput} and {@link selfCheckInput}. */
/** How long a self-check judge may take to answer unless told otherwise. */
const DEFAULT_JUDGE_TIMEOUT_MS = 30_000;

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
  assertKnownKeys(owner, options, ['model', 'prompt', 'usage', 'temperature', 'maxTokens', 'name', 'task', 'timeoutMs']);
  const { model, prompt, usage, temperature = 0.001, maxTokens = 3, name = flow, task = defaultTask, timeoutMs = DEFAULT_JUDGE_TIMEOUT_MS } = options;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidOptionError('timeoutMs', timeoutMs, `${owner}: timeoutMs must be a positive number of milliseconds (or Infinity), got ${describeValue(timeoutMs)}`);
  }
  assertRailName(owner, 'name', name);
  assertRailName(owner, 'task', task);
  if (model === null || typeof model !== 'object' || typeof model.stream !== 'function') {
    throw new InvalidOptionError('model', model, `${owner}: model must be a ChatModel (openAIModel, anthropicModel, scriptedModel, ...), got ${describeValue(model)}`);
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new InvalidOptionError('maxTokens', maxTokens, `${owner}: maxTokens must be a positive integer, got ${describeValue(maxTokens)}`);
  }
  const render = compilePrompt(owner, prompt);
  if (usage !== undefined) assertUsageSink(owner, 'usage', usage);
  return defineRail(name, (text, context): Observable<RailDecision> => {
    const prompt = { ...variables(text, context), history: '', general_instructions: '', sample_conversation: '', bot_thinking: '' };
    const sink = usage === undefined ? context.usage : context.usage === undefined ? usage : fanOut(usage, context.usage);
    return model
      .stream(render(prompt), { task, usage: sink, signal: context.signal, temperature, max_tokens: maxTokens })
      .pipe(
        reduce((answer, token) => answer + token, ''),
        timeoutMs === Number.POSITIVE_INFINITY
          ? (answer$: Observable<string>) => answer$
          : timeout({ first: timeoutMs, with: () => throwError(() => new Error(`the judge did not answer within ${timeoutMs} ms`)) }),
        map((answer): RailDecision => {
          const safe = isContentSafe(answer);
          return safe
            ? { allowed: true, reason: `the judge answered ${JSON.stringify(answer.trim())}` }
            : { allowed: false, reason: `the judge answered ${JSON.stringify(answer.trim())}` };
        }),
      );
  });
}

/** Compiles the prompt's templates once; a syntax error is an InvalidOptionError now, not a failure per window. */
function compilePrompt(owner: string, prompt: PromptTemplate): (variables: Record<string, string>) => ChatMessage[] {
  const parts = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new InvalidOptionError('prompt', prompt, `${owner}: prompt must be a template string or a non-empty list of { role, content }, got ${describeValue(prompt)}`);
  }
  const templates = parts.map((part, index) => {
    try {
      return { role: part.role, template: new Template(part.content) };
    } catch (error) {
      throw new InvalidOptionError(
        typeof prompt === 'string' ? 'prompt' : `prompt[${index}]`,
        part.content,
        `${owner}: the prompt is not a valid Jinja template: ${(error as Error).message}`,
      );
    }
  });
  return (variables) => templates.map(({ role, template }) => ({ role, content: template.render(variables) }));
}

/**
 * NeMo's `is_content_safe`: lower-case, collapse runs of non-word characters into a space, look at the first two
 * words: `safe` → safe, `unsafe` → unsafe, `yes` → unsafe, `no` → safe (checked in that order); else unsafe.
 */
export function isContentSafe(answer: string): boolean {
  const words = answer.toLowerCase().trim().replace(/[^\p{L}\p{N}_]+/gu, ' ').split(' ').slice(0, 2);
  for (const [word, safe] of [['safe', true], ['unsafe', false], ['yes', false], ['no', true]] as const) {
    if (words.includes(word)) return safe;
  }
  return false;
}
