// Simple streaming (NeMo's `stream_async`): the guarded answer, chunk by chunk, with `for await`.
//
//   npx tsx examples/simple-streaming.ts
import { LLMRails } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';

const config = await RailsConfig.fromPath('examples/configs/demo');
const rails = new LLMRails(config);

const messages = [{ role: 'user', content: 'How do I reset my router?' }];
for await (const chunk of rails.streamAsync(messages)) process.stdout.write(chunk);
console.log();
