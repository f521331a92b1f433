// Type tests: the real SDK clients and their typed parameters fit the structural types rxguardrails declares
// (so the core needs neither SDK, yet users get no friction). Compiled by `npm run typecheck`, never run.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Observable } from 'rxjs';
import {
  anthropicModel,
  type ChatModel,
  fromAnthropic,
  fromGuardrailsServer,
  fromOpenAI,
  fromOpenAIResponses,
  fromTokens,
  guard,
  keywordRail,
  type LabelledText,
  mergeLabelled,
  openAIModel,
  UsageTracker,
} from 'rxguardrails';

const openai = new OpenAI({ apiKey: 'sk-test' });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test' });
const usage = new UsageTracker();

const typedChat: OpenAI.Chat.ChatCompletionCreateParamsStreaming = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
  stream: true,
  temperature: 0.3,
};
export const chat: Observable<string> = fromOpenAI(openai, typedChat, { usage, task: 'general' }).pipe(guard([keywordRail(['x'])]));
export const responses: Observable<string> = fromOpenAIResponses(openai, { model: 'gpt-4.1-mini', input: 'Hi', instructions: 'Be brief.' });
const typedMessages: Anthropic.MessageCreateParamsStreaming = { model: 'claude-opus-4-7', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], stream: true };
export const claude: Observable<string> = fromAnthropic(anthropic, typedMessages);
export const models: ChatModel[] = [openAIModel(openai, { model: 'gpt-4o-mini' }), anthropicModel(anthropic, { model: 'claude-opus-4-7' })];
export const side: Observable<LabelledText> = mergeLabelled({ openai: chat, claude });
export const local: Observable<string> = fromTokens(async function* (signal: AbortSignal) {
  if (!signal.aborted) yield 'token';
});

// @ts-expect-error an Anthropic client is no OpenAI client
fromOpenAI(anthropic, typedChat);
// @ts-expect-error max_tokens is required by the Messages API
fromAnthropic(anthropic, { model: 'claude-opus-4-7', messages: [] });
// @ts-expect-error options are usage, task and signal
fromOpenAI(openai, typedChat, { tracker: usage });

// fromGuardrailsServer: an Observable<string> a guard composes with; its required options are required.
export const fromServer: Observable<string> = fromGuardrailsServer({ baseURL: 'http://127.0.0.1:8000/v1', messages: [{ role: 'user', content: 'Hi' }], usage }).pipe(
  guard([keywordRail(['x'])]),
);
// @ts-expect-error baseURL is required
fromGuardrailsServer({ messages: [{ role: 'user', content: 'Hi' }] });
// @ts-expect-error onInputViolation is 'refuse' or 'error'
fromGuardrailsServer({ baseURL: 'http://127.0.0.1:8000/v1', messages: [], onInputViolation: 'ignore' });
