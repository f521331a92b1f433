// The servers the server benchmark measures, one per child process (bench/server.bench.ts forks this file):
//   node bench/support/benchServers.mjs <guardrails | bare | relay | engine | engine-sdk> <model delay ms> [upstream port]
// Plain JavaScript run by plain node, so the guardrails server is the built package (dist/, what `rxguardrails
// server` runs), not lib/ through tsx: tsx turns on source maps for every stack trace (an AbortError per cancelled
// request) and wraps functions for their names, costs a user's server does not have.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = fileURLToPath(new URL('../configs/scripted', import.meta.url));
const [mode, delay = '0', upstream = '0'] = process.argv.slice(2);
const delayMs = Number(delay);
const upstreamPort = Number(upstream);
const scripted = readFileSync(`${CONFIG}/config.yml`, 'utf8');
const answer = (scripted.match(/- "(.+)"/) ?? [])[1];
if (mode === 'relay') {
  // The engine path's limit: a bare node:http relay of the upstream, the bytes piped through as they come.
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const server = createServer((request, response) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'text/event-stream', 'cache-control': 'no-cache' });
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else if (mode === 'engine' || mode === 'engine-sdk') {
  // The guardrails server on an openai engine whose provider is the upstream: the config's own model (engine:
  // the direct path, fetchOpenAIChat on Node's own HTTP client, the one createApp gives the engines) or the SDK path (engine-sdk: a client given, made as engineModel made its
  // clients before: the openai SDK with eventWiseFetch).
  const baseURL = `http://127.0.0.1:${upstreamPort}/v1`;
  const directory = mkdtempSync(join(tmpdir(), 'rxguardrails-bench-'));
  const rails = scripted.slice(scripted.indexOf('streaming: True'));
  const parameters = mode === 'engine' ? `\n    parameters:\n      base_url: ${baseURL}` : '';
  writeFileSync(join(directory, 'config.yml'), `models:\n  - type: main\n    engine: openai\n    model: bench${parameters}\n${rails}`);
  process.env.OPENAI_API_KEY = 'sk-bench';
  const [{ createApp }, { serve }] = await Promise.all([import('rxguardrails/server'), import('@hono/node-server')]);
  let clients = {};
  if (mode === 'engine-sdk') {
    const [{ default: OpenAI }, { eventWiseFetch }] = await Promise.all([import('openai'), import('../../dist/esm/sources/eventWiseFetch.js')]);
    clients = { openai: new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, fetch: eventWiseFetch() }) };
  }
  const app = await createApp({ configDir: directory, clients });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send(info.port));
  server.keepAliveTimeout = 60_000;
} else if (mode === 'guardrails') {
  const [{ createApp }, { serve }, { scriptedModel }] = await Promise.all([import('rxguardrails/server'), import('@hono/node-server'), import('rxguardrails')]);
  // The config's own model at no delay, or the same answer paced.
  const app = await createApp({ configDir: CONFIG, ...(delayMs > 0 && { models: { main: scriptedModel([answer], { delayMs, model: 'bench' }) } }) });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send(info.port));
  server.keepAliveTimeout = 60_000;
} else {
  // The limit: a hand-written SSE endpoint streaming the same answer, with the same framing per request.
  const words = answer.match(/\S+\s*/g);
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (piece) => (body += piece));
    request.on('end', () => {
      const { model } = JSON.parse(body);
      const base = { id: `chatcmpl-${globalThis.crypto.randomUUID()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
      const frame = (delta, finish = null) =>
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      response.write(frame({ role: 'assistant', content: '', refusal: null }));
      const finish = () => {
        response.write(frame({}, 'stop'));
        response.end('data: [DONE]\n\n');
      };
      if (delayMs === 0) {
        for (const word of words) response.write(frame({ content: word }));
        finish();
      } else {
        // A word every delayMs, the first after one delay, as the scripted model paces them.
        let next = 0;
        const tick = () => {
          response.write(frame({ content: words[next++] }));
          if (next < words.length) setTimeout(tick, delayMs);
          else finish();
        };
        setTimeout(tick, delayMs);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
}
// The parent asks for the CPU time spent so far, to report CPU per request.
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();    process.send({ cpuMicroseconds: user + system });
  }
});
process.on('disconnect', () => process.exit(0));
