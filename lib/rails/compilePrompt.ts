// Internal: the one place that renders NeMo's Jinja prompt templates (@huggingface/jinja), for every LLM-judged rail.
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { describeValue } from '../internal/validateOptions.js';

/** A prompt: one template (sent as a user message), or chat messages whose contents are templates. */
export type PromptTemplate = string | readonly { readonly role: string; readonly content: string }[];

/** Values a template may read: strings, booleans (`reasoning_enabled`), ... */
export type PromptVariables = Readonly<Record<string, string | boolean>>;

/**
 * The variables NeMo gives every task prompt besides the rail's own, empty here (no dialog rails): a template written
 * for NeMo that mentions them renders rather than failing.
 */
const NEMO_VARIABLES = { history: '', general_instructions: '', sample_conversation: '', bot_thinking: '' };

/** What a trial render gives the variables the rails pass (user_input, bot_response, reasoning_enabled). */
const TRIAL_VARIABLES = { user_input: 'Hello', bot_response: 'Hello', reasoning_enabled: false };

/**
 * Compiles the prompt's templates once; a syntax error, or a template that cannot render (an unknown filter), is
 * an InvalidOptionError now (option `prompt` or `prompt[i]`), not a failure per window. The renderer gives the chat messages to send.
 */
export function compilePrompt(owner: string, prompt: PromptTemplate): (variables: PromptVariables) => ChatMessage[] {
  const parts = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new InvalidOptionError('prompt', prompt, `${owner}: prompt must be a template string or a non-empty list of { role, content }, got ${describeValue(prompt)}`);
  }
  const templates = parts.map((part, index) => {
    const option = typeof prompt === 'string' ? 'prompt' : `prompt[${index}]`;
    let template: Template;
    try {
      template = new Template(part.content);
    } catch (error) {
      throw new InvalidOptionError(option, part.content, `${owner}: the prompt is not a valid Jinja template: ${(error as Error).message}`);
    }
    // One trial render, so that what fails for any text (a filter only NeMo has, such as user_assistant_sequence)
    // fails now rather than every check.
    try {
      template.render({ ...NEMO_VARIABLES, ...TRIAL_VARIABLES });
    } catch (error) {
      const filter = /Unknown \w+ filter: (\w+)/.exec((error as Error).message)?.[1];
      throw new InvalidOptionError(
        option,
        part.content,
        filter === undefined
          ? `${owner}: the prompt cannot be rendered: ${(error as Error).message}`
          : `${owner}: the prompt uses the filter '${filter}', which rxguardrails' templates do not have (NeMo's own filters work on its dialog history, which rxguardrails does not keep); use Jinja's built-in filters`,
      );
    }
    return { role: part.role, template };
  });
  return (variables) => templates.map(({ role, template }) => ({ role, content: template.render({ ...NEMO_VARIABLES, ...variables }) }));
}
