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

/**
 * Compiles the prompt's templates once; a syntax error is an InvalidOptionError now (option `prompt` or
 * `prompt[i]`), not a failure per window. The renderer gives the chat messages to send.
 */
export function compilePrompt(owner: string, prompt: PromptTemplate): (variables: PromptVariables) => ChatMessage[] {
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
  return (variables) => templates.map(({ role, template }) => ({ role, content: template.render({ ...NEMO_VARIABLES, ...variables }) }));
}
