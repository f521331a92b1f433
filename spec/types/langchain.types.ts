// Type tests: real LangChain models, bindings and chains fit the structural types of rxguardrails/langchain (so the
// bridge imports nothing from @langchain/core, yet users get no friction). Compiled by `npm run typecheck`, never run.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import type { Observable } from 'rxjs';
import { type ChatModel, guard, keywordRail, LLMRails, RailsConfig, UsageTracker } from 'rxguardrails';
import { fromLangChain, langChainModel } from 'rxguardrails/langchain';

declare const anyChat: BaseChatModel;
const fake = new FakeListChatModel({ responses: ['Hi'] });
const messages = [{ role: 'user' as const, content: 'Hi' }];
const usage = new UsageTracker();

export const models: ChatModel[] = [
  langChainModel(anyChat),
  langChainModel(fake, { provider: 'fake', model: 'list' }),
  langChainModel(new FakeStreamingChatModel({}), { configure: ({ temperature }) => (temperature === 0 ? fake : anyChat) }),
  langChainModel(fake.withConfig({ tags: ['rails'] })),
];
export const started: Observable<string> = fromLangChain(anyChat.stream(messages));
export const cold: Observable<string> = fromLangChain((signal) => anyChat.stream(messages, { signal }), { usage, messages, task: 'general' }).pipe(
  guard([keywordRail(['x'])]),
);
export const chain: Observable<string> = fromLangChain((signal) => fake.pipe(new StringOutputParser()).stream(messages, { signal }));
export const rails = new LLMRails(RailsConfig.fromContent({ models: [] }), { models: { main: langChainModel(anyChat), self_check_input: langChainModel(fake) } });

// @ts-expect-error a ChatModel of rxguardrails is not a LangChain model
langChainModel(models[0]!);
// @ts-expect-error the stream function takes the signal, not messages
fromLangChain((messages: string[]) => anyChat.stream(messages));
