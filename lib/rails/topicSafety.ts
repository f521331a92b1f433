import { map, type Observable } from 'rxjs';
import type { ChatMessage, OutputRail, RailDecision } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import { askJudge, assertJudgeSettings, assertPositiveInteger, type JudgeSettings, quotedAnswer } from './askJudge.js';
import { compilePrompt } from './compilePrompt.js';
import { isOnTopic, pythonStrip } from './contentSafetyParsers.js';
import { defineRail } from './defineRail.js';

/** NeMo's topic-safety judge temperature. */
export const TOPIC_SAFETY_TEMPERATURE = 0.01;

/** The sentence NeMo appends to a topic policy that does not already end with it (the topic-control model's contract). */
export const TOPIC_SAFETY_OUTPUT_RESTRICTION =
  'If any of the above conditions are violated, please respond with "off-topic". Otherwise, respond with "on-topic". You must respond with "on-topic" or "off-topic".';

/** Options of {@link topicSafetyCheckInput}. */
export interface TopicSafetyOptions extends JudgeSettings {
  /** The topic policy: a Jinja template, rendered and sent as the system message. */
  readonly prompt: string;
  /** Stop sequences sent to the judge (the prompt's `stop`). */
  readonly stop?: readonly string[];
  /** `max_tokens` of the answer; NeMo sends none, so by default none is sent. */
  readonly maxTokens?: number;
}

/**
 * An input rail judged by a topic-control model, as NeMo's `topic safety check input $model=<type>`: the judge is
 * asked with the policy as the system message (NeMo's closing instruction appended unless the policy ends with it),
 * then the conversation, ending with the user's message, at temperature 0.01. Only an answer that is exactly
 * `off-topic` (case and surrounding whitespace aside) blocks; anything else, garbage and `off-topic.` included,
 * allows: NeMo's rule, which fails open. Calls are recorded under `topic_safety_check_input` (LLMRails: with `$model=`).
 * Internal to the flow registry (not exported from the core entry); a config names it:
 *
 * ## Example
 * ```yaml
 * models: [{ type: topic_control, engine: nim, model: nvidia/llama-3.1-nemoguard-8b-topic-control }]
 * rails: { input: { flows: [topic safety check input $model=topic_control] } }
 * prompts: [{ task: topic_safety_check_input $model=topic_control, content: "You guard a bookshop's assistant: orders and books only." }]
 * ```
 */
export function topicSafetyCheckInput(options: TopicSafetyOptions): OutputRail {
  const owner = 'topicSafetyCheckInput';
  assertKnownKeys(owner, options, ['model', 'prompt', 'usage', 'stop', 'maxTokens', 'name', 'task', 'timeoutMs']);
  assertJudgeSettings(owner, options);
  const { prompt, stop, maxTokens, name = 'topic safety check input', task = 'topic_safety_check_input' } = options;
  if (typeof prompt !== 'string') {
    throw new InvalidOptionError('prompt', prompt, `${owner}: prompt must be a template string (the topic policy), got ${describeValue(prompt)}`);
  }
  assertPositiveInteger(owner, 'maxTokens', maxTokens);
  // The policy has no variables of its own: rendered once.
  let policy = pythonStrip(compilePrompt(owner, prompt)({})[0]!.content);
  if (!policy.endsWith(TOPIC_SAFETY_OUTPUT_RESTRICTION)) policy = `${policy}\n\n${TOPIC_SAFETY_OUTPUT_RESTRICTION}`;
  return defineRail(name, (text, context): Observable<RailDecision> => {
    // The conversation as the request gave it, which ends with the message checked; alone, the message itself.
    const conversation: readonly ChatMessage[] = context.messages.some((message) => message.role === 'user') ? context.messages : [{ role: 'user', content: text }];
    return askJudge({ ...options, task }, [{ role: 'system', content: policy }, ...conversation], { temperature: TOPIC_SAFETY_TEMPERATURE, max_tokens: maxTokens, stop }, context).pipe(
      map((answer): RailDecision => ({ allowed: isOnTopic(answer), reason: `the judge answered ${quotedAnswer(answer)}` })),
    );
  });
}
