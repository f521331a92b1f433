import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
const child = fork('/work/wt-lean/bench/server.bench.ts', ['--serve', 'bare', '0', '0'], { execArgv: ['--import', 'tsx'] });
const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'q' }], stream: true, stream_options: { include_usage: true } });
const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer x' };
async function viaFetch() {
  const response = await fetch(url, { method: 'POST', headers, body, signal: new AbortController().signal });
  const reader = response.body!.getReader(); const decoder = new TextDecoder(); let n = 0;
  for (;;) { const r = await reader.read(); if (r.done) break; n += decoder.decode(r.value, { stream: true }).length; }
  return n;
}
const agent = new Agent({ keepAlive: true, maxSockets: 100 });
async function viaHttp() {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent }, async (res) => {
      res.setEncoding('utf8'); let n = 0;
      for await (const chunk of res) n += (chunk as string).length;
      resolve(n);
    });
    req.on('error', reject); req.end(body);
  });
}
for (const [name, f] of [['fetch', viaFetch], ['http', viaHttp], ['fetch', viaFetch], ['http', viaHttp]] as const) {
  await Promise.all(Array.from({ length: 50 }, () => f()));
  const before = process.cpuUsage(); const t = performance.now();
  await Promise.all(Array.from({ length: 50 }, async () => { for (let i = 0; i < 40; i++) await f(); }));
  const c = process.cpuUsage(before);
  console.log(name, 'cpu µs/req', Math.round((c.user + c.system) / 2000), 'wall', Math.round(performance.now() - t));
}
process.exit(0);
