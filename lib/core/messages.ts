// The one rule for which message a rail calls "the user's": the last one with role `user`.
import type { ChatMessage } from './types.js';

/** The text of the last `user` message, or undefined when there is none. */
export function lastUserMessage(messages: readonly ChatMessage[]): string | undefined {
  for (let position = messages.length - 1; position >= 0; position--) {
    const message = messages[position]!;
    if (message.role === 'user') return message.content;
  }
  return undefined;
}
