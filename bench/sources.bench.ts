// SDK-path benchmark: a 10,000-delta OpenAI Chat Completions stream read through the real `openai` client, raw
// (`for await` over the SDK stream) versus `fromOpenAI` + `guard([keywordRail])`, in one run.
//
//   npm run bench            (runs every benchmark; this one writes bench/results/sources.json)
//
// The stream is served by a plain node:http server in a child process, so the timed process does only the
// client's work. Each case runs many times, interleaved, after a warm-up; medians count.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { lastValueFrom, reduce } from 'rxjs';
import { fromOpenAI, guard, keywordRail } from 'rxguardrails';

const DELTAS = 10_000;
const RUNS = 21;
const WORDS = [' the', ' quick', ' brown', ' fox', ' jumps', ' over', ' a', ' lazy', ' dog', '.'];

function transcript(): string {
  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], usage: null, ...extra })}\n\n`;
  const parts = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (let index = 0; index < DELTAS; index++) parts.push(chunk({ content: WORDS[index % WORDS.length] }));
  parts.push(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: DELTAS, total_tokens: DELTAS + 12 } })}\n\n`);
  parts.push('data: [DONE]\n\n');
  return parts.join('');
}

// Child mode: serve the transcript and report the port.
if (process.argv.includes('--serve')) {
  const body = Buffer.from(transcript());
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  process.on('disconnect', () => process.exit(0));
} else {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(message as number)));
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Tell me about foxes.' }] };
  const rail = keywordRail(['forbidden', 'secret plan', 'launch code']);

  const cases = {
    'raw SDK stream': async () => {
      const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      let characters = 0;
      for await (const chunk of stream) characters += chunk.choices[0]?.delta?.content?.length ?? 0;
      return characters;
    },
    'fromOpenAI alone': () => lastValueFrom(fromOpenAI(client, params).pipe(reduce((characters, token) => characters + token.length, 0))),
    'fromOpenAI + guard (streamFirst: true)': () =>
      lastValueFrom(fromOpenAI(client, params).pipe(guard([rail]), reduce((characters, token) => characters + token.length, 0))),
    'fromOpenAI + guard (streamFirst: false)': () =>
      lastValueFrom(fromOpenAI(client, params).pipe(guard([rail], { streamFirst: false }), reduce((characters, token) => characters + token.length, 0))),
  };
  const expected = Array.from({ length: DELTAS }, (_, index) => WORDS[index % WORDS.length]!.length).reduce((a, b) => a + b, 0);

  const timings = new Map<string, number[]>();
  for (let run = -3; run < RUNS; run++) {
    for (const [name, timed] of Object.entries(cases)) {
      const started = process.hrtime.bigint();
      const characters = await timed();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (characters !== expected) throw new Error(`${name}: ${characters} characters, expected ${expected}`);
      if (run >= 0) timings.set(name, [...(timings.get(name) ?? []), elapsed]);
    }
  }
  child.disconnect();

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const raw = median(timings.get('raw SDK stream')!);
  const results = [...timings].map(([name, runs]) => ({
    case: name,
    deltas: DELTAS,
    runs: runs.length,
    medianMs: Math.round(median(runs) * 100) / 100,
    usPerDelta: Math.round((median(runs) * 1000 * 100) / DELTAS) / 100,
    ratioToRaw: Math.round((median(runs) / raw) * 1000) / 1000,
  }));
  const targets = results.filter((result) => result.case.includes('guard')).map((result) => ({
    case: result.case,
    target: 'time <= 1.10 x the raw SDK stream',
    value: result.ratioToRaw,
    met: result.ratioToRaw <= 1.1,
  }));
  const report = {
    benchmark: 'sources',
    date: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model },
    setup: { deltas: DELTAS, client: 'openai (real client)', server: 'node:http in a child process, whole transcript in one write', rail: 'keywordRail(3 keywords)', window: 'chunk 200 / context 50' },
    method: 'median of interleaved runs after 3 warm-up rounds; ratioToRaw = case time / raw SDK stream time',
    results,
    targets,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/sources.json', import.meta.url), JSON.stringify(report, null, 2) + '\n');
  console.log('rxguardrails sources benchmark (10,000-delta OpenAI stream through the real client)');
  console.table(results);
  console.table(targets);
  console.log('written to bench/results/sources.json');
}
