// Internal: one call of an LLM-judged rail's judge, whole answer out. Every judged rail (self check, content safety,
// topic safety, Llama Guard) asks through here, so usage, cancellation and the answer timeout work alike.
import { type Observable, reduce, throwError, timeout } from 'rxjs';
import type { ChatMessage, ChatModel, RailContext, UsageSink } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertRailName, assertTimeoutMs, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import { fanOut } from '../usage/fanOut.js';

/** How long a judge may take to answer unless told otherwise. */
export const DEFAULT_JUDGE_TIMEOUT_MS = 30_000;

/**
 * The longest answer a judge may give, in UTF-16 units (about 16,000 tokens, room for a reasoning model's thinking):
 * past it the call is stopped and the check fails, closed. A judge's answer is read whole, so without a bound a model
 * that runs on would fill memory until the timeout.
 */
export const MAX_JUDGE_ANSWER = 64 * 1024;

/** How a verdict's reason quotes the judge's answer: JSON, cut to its first 200 characters. */
export function quotedAnswer(answer: string): string {
  const trimmed = answer.trim();
  return trimmed.length <= 200 ? JSON.stringify(trimmed) : `${JSON.stringify(trimmed.slice(0, 200))}… (${trimmed.length} characters)`;
}

/** What every judged rail's factory checks alike: the judge, its usage sink, its timeout, its name and task. */
export interface JudgeSettings {
  readonly model: ChatModel;
  readonly usage?: UsageSink;
  readonly timeoutMs?: number;
  readonly name?: string;
  readonly task?: string;
}

/** Validates the settings every judged rail shares; throws InvalidOptionError naming the option. */
export function assertJudgeSettings(owner: string, settings: JudgeSettings): void {
  const { model, usage, timeoutMs = DEFAULT_JUDGE_TIMEOUT_MS, name, task } = settings;
  assertTimeoutMs(owner, timeoutMs);
  if (name !== undefined) assertRailName(owner, 'name', name);
  if (task !== undefined) assertRailName(owner, 'task', task);
  if (model === null || typeof model !== 'object' || typeof model.stream !== 'function') {
    throw new InvalidOptionError('model', model, `${owner}: model must be a ChatModel (openAIModel, anthropicModel, scriptedModel, ...), got ${describeValue(model)}`);
  }
  if (usage !== undefined) assertUsageSink(owner, 'usage', usage);
}

/** Asserts an optional positive integer option (`maxTokens`). */
export function assertPositiveInteger(owner: string, option: string, value: unknown): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a positive integer, got ${describeValue(value)}`);
  }
}

/**
 * The judge's whole answer to `messages`, the call recorded under `task` in the rail's own usage sink and the
 * pipeline's (`context.usage`), aborted with the check (`context.signal`), failed past `timeoutMs`. Request
 * parameters whose value is undefined are not sent.
 */
export function askJudge(
  settings: JudgeSettings & { readonly task: string },
  messages: readonly ChatMessage[],
  parameters: Readonly<Record<string, unknown>>,
  context: RailContext,
): Observable<string> {
  const { model, usage, task, timeoutMs = DEFAULT_JUDGE_TIMEOUT_MS } = settings;
  const sink = usage === undefined ? context.usage : context.usage === undefined ? usage : fanOut(usage, context.usage);
  const sent = Object.fromEntries(Object.entries(parameters).filter(([, value]) => value !== undefined));
  const answer$ = model.stream(messages, { ...sent, task, usage: sink, signal: context.signal }).pipe(
    reduce((answer, token) => {
      // Throwing here ends the stream, which unsubscribes (and so aborts) the judge's call.
      if (answer.length + token.length > MAX_JUDGE_ANSWER) throw new Error(`the judge answered more than ${MAX_JUDGE_ANSWER} characters`);
      return answer + token;
    }, ''),
  );
  return timeoutMs === Number.POSITIVE_INFINITY
    ? answer$
    : answer$.pipe(timeout({ first: timeoutMs, with: () => throwError(() => new Error(`the judge did not answer within ${timeoutMs} ms`)) }));
}
