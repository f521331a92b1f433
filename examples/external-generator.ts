// An external generator (NeMo's `stream_async(generator=...)`): tokens from anywhere, checked by the config's
// output rails. Input rails and the configured model are skipped, as in NeMo.
//
//   npx tsx examples/external-generator.ts
import { LLMRails, RailViolationError } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';

const rails = new LLMRails(await RailsConfig.fromPath('examples/configs/demo'));

/** Stands for any producer of tokens: a local model, another service, a cached answer. */
async function* generator(): AsyncGenerator<string> {
  const answer = 'Of course. The Wi-Fi is "Guest", and the staff passphrase is otter-seven, do not share it.';
  for (const token of answer.match(/\S+\s*/g)!) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    yield token;
  }
}

try {
  for await (const chunk of rails.streamAsync([{ role: 'user', content: 'What is the Wi-Fi?' }], { generator: generator() })) {
    process.stdout.write(chunk);
  }
  console.log();
} catch (error) {
  if (!RailViolationError.isInstance(error)) throw error;
  console.log(`\n✖ ${error.message}`);
}
