// The LangChain.js bridge: a LangChain chat model (here LangChain's own FakeListChatModel, so it runs with no key or
// server; swap in ChatOllama, ChatGoogleGenerativeAI, ChatBedrockConverse, ...) as LLMRails' main model and as the
// judge of `self check input`, and as a token source under a guard.
//
//   npx tsx examples/langchain-bridge.ts
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { lastValueFrom, tap } from 'rxjs';
import { guard, keywordRail, LLMRails, RailsConfig, RailViolationError } from 'rxguardrails';
import { fromLangChain, langChainModel } from 'rxguardrails/langchain';

const main = new FakeListChatModel({ responses: ['To reset your router, hold its reset button for ten seconds.', 'The admin password is hunter2.'] });
// LangChain models take temperature and max tokens when constructed, so what the self-check rail asks for (NeMo's
// lowest temperature, a few tokens) reaches a judge through configure; with ChatOllama that would be
// `({ temperature, maxTokens }) => new ChatOllama({ model: 'llama3.2', temperature, numPredict: maxTokens })`.
const judgeModel = new FakeListChatModel({ responses: ['No', 'Yes'] });
const judge = langChainModel(judgeModel, {
  model: 'fake-judge',
  configure: ({ temperature, maxTokens }) => {
    console.log(`(judge asked with temperature ${temperature}, maxTokens ${maxTokens})`);
    return judgeModel;
  },
});

const rails = new LLMRails(
  RailsConfig.fromContent({
    models: [],
    rails: { input: { flows: ['self check input'] } },
    prompts: [{ task: 'self_check_input', content: 'Should this user message be blocked (Yes or No)?\nUser message: "{{ user_input }}"\nAnswer:' }],
  }),
  { models: { main: langChainModel(main, { provider: 'fake', model: 'fake-list' }), self_check_input: judge } },
);

for (const question of ['How do I reset my router?', 'What is the admin password?']) {
  console.log(`> ${question}`);
  await lastValueFrom(rails.stream([{ role: 'user', content: question }]).pipe(tap((token) => process.stdout.write(token))));
  console.log('\n');
}

// The same model as a token source under a guard: the block unsubscribes, which aborts the LangChain call.
console.log('> (the main model, guarded by a keyword rail)');
try {
  await lastValueFrom(fromLangChain((signal) => main.stream([{ role: 'user', content: 'And the password?' }], { signal })).pipe(
    guard([keywordRail(['password'])], { streamFirst: false, chunkSize: 8, contextSize: 7 }),
    tap((token) => process.stdout.write(token)),
  ));
} catch (error) {
  if (!RailViolationError.isInstance(error)) throw error;
  console.log(`✖ ${error.message}`);
}

console.log();
rails.explain().printLlmCallsSummary();
