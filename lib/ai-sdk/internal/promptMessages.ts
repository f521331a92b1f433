// Internal: an AI SDK prompt as the chat messages rails see (`RailContext.messages`, whose last user message is
// `userMessage`): the text of each system, user and assistant message; tool messages and non-text parts carry no text
// a rail reads.
import type { LanguageModelV4Prompt } from '@ai-sdk/provider';
import type { ChatMessage } from '../../core/types.js';

export function promptMessages(prompt: LanguageModelV4Prompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const message of prompt) {
    if (message.role === 'system') messages.push({ role: 'system', content: message.content });
    else if (message.role === 'user' || message.role === 'assistant') {
      const content = message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
      messages.push({ role: message.role, content });
    }
  }
  return messages;
}
