// Provider transcripts made to order (in the recorded fixtures' exact shapes), for answers a test needs.
import { sse } from './replayServer.js';

/** Words with their trailing spaces: one delta each. */
export const pieces = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [];

/** An OpenAI Chat Completions stream of `text`, one word per delta, with a usage chunk when given usage. */
export function openAIAnswer(text: string, usage?: { prompt: number; completion: number }): Buffer {
  const chunk = (delta: object, finish: string | null = null) => ({
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(usage ? { usage: null } : {}),
  });
  const usageChunk = usage
    ? [{ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion } }]
    : [];
  return sse([chunk({ role: 'assistant', content: '', refusal: null }), ...pieces(text).map((piece) => chunk({ content: piece })), chunk({}, 'stop'), ...usageChunk], {
    done: true,
  });
}

/** An Anthropic Messages stream of `text`, one word per text_delta, with usage. */
export function anthropicAnswer(text: string, usage: { input: number; output: number }): Buffer {
  const event = (type: string, data: object) => ({ event: type, data: { type, ...data } });
  return sse([
    event('message_start', { message: { id: 'msg_test', type: 'message', role: 'assistant', content: [], model: 'claude-opus-4-7', stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } } }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...pieces(text).map((piece) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } })),
    event('content_block_stop', { index: 0 }),
    event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }),
    event('message_stop', {}),
  ]);
}
