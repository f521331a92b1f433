// Token usage: every LLM call (the main model and the LLM-judged `self check output`) is recorded, for NeMo's
// `explain()` summary and for a generation's log.
//
//   npx tsx examples/token-usage.ts
import { LLMRails, UsageTracker } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';

const usage = new UsageTracker();
const rails = new LLMRails(await RailsConfig.fromPath('examples/configs/demo'), { usage });

const result = await rails.generate([{ role: 'user', content: 'How do I reset my router?' }], {
  options: { log: { llmCalls: true, activatedRails: true } },
});
console.log(result.response[0]!.content);

const { stats, activatedRails } = result.log!;
console.log(`\n${stats.llmCallsCount} LLM calls, ${stats.llmCallsTotalTokens} tokens (${stats.llmCallsTotalPromptTokens} prompt, ${stats.llmCallsTotalCompletionTokens} completion)`);
for (const rail of activatedRails!) console.log(`${rail.type} rail '${rail.name}': ${rail.checks} checks, ${rail.llmCalls.length} LLM calls`);

console.log();
rails.explain().printLlmCallsSummary();
console.log('totals:', usage.snapshot().totals);
