// The OpenAI streaming generator: the SDK's own stream, read as an async generator and guarded by the config's
// output rails (NeMo's example of `stream_async(generator=...)` with OpenAI). Needs OPENAI_API_KEY
// (OPENAI_BASE_URL points it at any OpenAI-compatible server).
//
//   OPENAI_API_KEY=sk-... npx tsx examples/openai-streaming-generator.ts
import OpenAI from 'openai';
import { LLMRails, RailViolationError } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';

if (!process.env.OPENAI_API_KEY) {
  console.log('Set OPENAI_API_KEY to run this example (and OPENAI_BASE_URL for another OpenAI-compatible server).');
  process.exit(0);
}

const client = new OpenAI();
const messages = [{ role: 'user' as const, content: 'Write two sentences about routers.' }];

async function* openAIGenerator(): AsyncGenerator<string> {
  const stream = await client.chat.completions.create({ model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini', messages, stream: true });
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta?.content;
    if (content) yield content;
  }
}

const rails = new LLMRails(await RailsConfig.fromPath('examples/configs/demo'), { clients: { openai: client } });
try {
  for await (const chunk of rails.streamAsync(messages, { generator: openAIGenerator() })) process.stdout.write(chunk);
  console.log();
} catch (error) {
  if (!RailViolationError.isInstance(error)) throw error;
  console.log(`\n✖ ${error.message}`);
}
