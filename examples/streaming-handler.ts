// Full streaming with a StreamingHandler (NeMo's `generate_async(..., streaming_handler=...)`): the chunks go to
// the handler as they are released while `generate` resolves with the whole message.
//
//   npx tsx examples/streaming-handler.ts
import { LLMRails, StreamingHandler } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';

const rails = new LLMRails(await RailsConfig.fromPath('examples/configs/demo'));
const handler = new StreamingHandler();

// Consume the handler while the generation runs.
const printing = (async () => {
  for await (const chunk of handler) process.stdout.write(`[${chunk}]`);
  console.log();
})();

const message = await rails.generate([{ role: 'user', content: 'How do I reset my router?' }], { streamingHandler: handler });
await printing;
console.log(message);
console.log('the handler saw the same text:', handler.completion === message.content);
