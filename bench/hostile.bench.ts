// Hostile server benchmark: 200 well-behaved streaming clients against the guardrails server, alone (clean) and with
// hostile clients beside them: 20 clients that ask for a long answer and never read it, and 5 requests with a 900 KB
// `model` field. Reported for the well-behaved streams: p50/p99 time to first token and to completion, and the
// streams lost (not ended by `data: [DONE]` with the whole answer); for the server, its peak RSS; for the hostile
// clients, how many non-readers the server dropped and what the over-long requests got.
//
//   npm run bench:hostile     (also part of npm run bench; writes bench/results/hostile.json)
//
// The well-behaved clients ask bench/configs/scripted (a keyword rail on windows of 20 tokens), its model pacing a
// word every 10 ms as a real one does, each client sending its next request when one ends. What a non-reader costs
// depends on how fast its answer comes, so the hostile run is made three ways (all on the same rails):
//   instant   a scripted answer of 26,000 words (5 MB of frames) given at once: the issue's reproduction;
//   provider  the openai engine on a fake provider streaming 100,000 deltas at 0.6 MB/s, faster than any model:
//             each non-reader is dropped once the kernel's buffers and 1 MiB of the server's are full;
//   paced     the same provider at a model's pace (a delta every 10 ms): a non-reader then costs what a reader does.
//
// Processes: the guardrails server, the fake provider and the load generator (this one) each their own; a fresh
// server per run, runs alternating for ROUNDS rounds, the median round reported. The server's RSS is read from
// /proc/<pid>/status every 20 ms during the run (its peak), and VmHWM at the end (which counts start-up too).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heldConnections, memoryBytes } from '../spec/support/processProbe.js';
import { streamRequest } from './support/streamRequest.js';

const SCRIPTED = fileURLToPath(new URL('./configs/scripted/config.yml', import.meta.url));
const CLIENTS = Number(process.env.RXGUARDRAILS_BENCH_HOSTILE_CLIENTS ?? 200);
/** Requests each well-behaved client sends in a run, one after the other (about 0.5 s each). */
const REQUESTS_PER_CLIENT = Number(process.env.RXGUARDRAILS_BENCH_HOSTILE_REQUESTS ?? 12);
const ROUNDS = Number(process.env.RXGUARDRAILS_BENCH_ROUNDS ?? 3);
const MODEL_DELAY_MS = 10;
/** The well-behaved clients' first requests are spread over this long: about one answer's length. */
const RAMP_MS = 500;
const NON_READERS = 20;
const OVER_LONG = 5;
const INSTANT_WORDS = 26_000;
/** The fake provider's long answer, and its paces by the model the config asks for. */
const PROVIDER_WORDS = 100_000;
const PACES = { fast: { batchBytes: 12_288, intervalMs: 20 }, paced: { batchBytes: 1, intervalMs: MODEL_DELAY_MS } } as const;

/** Garbage collection's pauses in the server: how many (major: mark-compact), their total and the longest, in ms. */
interface GcPauses {
  pauses: number;
  majorPauses: number;
  totalMs: number;
  maxMs: number;
}

/**
 * `providerReaders` and `pacedReaders` are controls, not hostile runs: their 20 clients ask what the provider or paced
 * non-readers ask, and read it. What a run with non-readers costs beyond its control is what not reading costs; what
 * the control costs beyond the clean run is the 20 provider streams themselves (each costlier than a scripted one: the
 * SDK's parsing, a socket read per event; the fast provider's, 0.6 MB/s each, more than one core can parse).
 */
type Kind = 'clean' | 'instant' | 'provider' | 'paced' | 'providerReaders' | 'pacedReaders';
/** The controls: readers of what the non-readers of `provider` and `paced` ask. */
const CONTROLS: Partial<Record<Kind, Kind>> = { providerReaders: 'provider', pacedReaders: 'paced' };
/** RXGUARDRAILS_BENCH_HOSTILE_KINDS=provider,paced runs those beside the clean run (to look into one). */
const KINDS: readonly Kind[] = [
  'clean',
  ...((process.env.RXGUARDRAILS_BENCH_HOSTILE_KINDS?.split(',') as Kind[] | undefined) ?? ['instant', 'provider', 'paced', 'providerReaders', 'pacedReaders']),
];
/** The config each kind's non-readers (readers, for the control) ask. */
const NON_READER_CONFIG: Record<Exclude<Kind, 'clean'>, string> = { instant: 'instant', provider: 'fast', paced: 'paced', providerReaders: 'fast', pacedReaders: 'paced' };

const role = process.argv.includes('--role') ? process.argv[process.argv.indexOf('--role') + 1] : undefined;

if (role === 'server') {
  const [{ createApp }, { serve }] = await Promise.all([import('rxguardrails/server'), import('@hono/node-server')]);
  const app = await createApp({ configDir: process.argv[process.argv.indexOf('--configs') + 1]!, onError: () => undefined });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send!(info.port));
  (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 60_000;
  // The event loop's delays: how long a request could wait for the loop (reset when a run starts).
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // Garbage collection's pauses (each stops the event loop): how many, their total and the longest, since the last ask.
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  let gc = { pauses: 0, majorPauses: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.pauses++;
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.majorPauses++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message) => {
    if (message === 'state') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpuMicroseconds: user + system, lagMaxMs: lag.max / 1e6, lagP99Ms: lag.percentile(99) / 1e6, gc });
      lag.reset();
      gc = { pauses: 0, majorPauses: 0, totalMs: 0, maxMs: 0 };
    }
  });
  process.on('disconnect', () => process.exit(0));
} else if (role === 'provider') {
  // An OpenAI chat stream of PROVIDER_WORDS deltas at the pace of the requested model; it counts the streams the
  // server cut short.
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-provider', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const token = chunk({ content: 'lorem ' });
  let cutShort = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (piece: string) => (body += piece));
    request.on('end', () => {
      const pace = PACES[(JSON.parse(body) as { model: keyof typeof PACES }).model] ?? PACES.fast;
      const perBatch = Math.max(1, Math.floor(pace.batchBytes / token.length));
      const batch = token.repeat(perBatch);
      let ended = false;
      response.on('close', () => {
        if (!ended) cutShort++;
      });
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      response.write(chunk({ role: 'assistant', content: '', refusal: null }));
      let left = PROVIDER_WORDS;
      const pump = () => {
        if (response.destroyed) return;
        if (left <= 0) {
          ended = true;
          response.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
          return;
        }
        const count = Math.min(left, perBatch);
        left -= count;
        const next = () => setTimeout(pump, pace.intervalMs);
        if (response.write(count === perBatch ? batch : token.repeat(count))) next();
        else response.once('drain', next);
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  process.on('message', (message) => {
    if (message === 'cut') {
      const { user, system } = process.cpuUsage();
      process.send!({ cutShort, cpuMicroseconds: user + system });
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const scripted = readFileSync(SCRIPTED, 'utf8');
  const answer = (scripted.match(/- "(.+)"/) ?? [])[1]!;
  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  };
  const median = (values: number[]) => percentile(values, 50);
  const round = (value: number) => Math.round(value * 100) / 100;
  const MB = 2 ** 20;

  function start(roleName: 'server' | 'provider', args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; port: number }> {
    const child = fork(fileURLToPath(import.meta.url), ['--role', roleName, ...args], { env, execArgv: roleName === 'server' && process.env.PROF ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : process.execArgv });
    return new Promise((resolve, reject) => {
      child.once('message', (port) => resolve({ child, port: port as number }));
      child.once('exit', (code) => reject(new Error(`the ${roleName} exited with code ${code} before listening`)));
    });
  }

  /** The configs the server serves, all with the bench config's rails: chat (paced), instant, fast and paced. */
  function configFolder(): string {
    const root = mkdtempSync(join(tmpdir(), 'rxguardrails-hostile-bench-'));
    const rails = scripted.slice(scripted.indexOf('rails:'));
    const words = answer.split(' ');
    const long = Array.from({ length: INSTANT_WORDS }, (_, index) => words[index % words.length]).join(' ');
    const configs = {
      chat: scripted.replace(/delay_ms: 0/, `delay_ms: ${MODEL_DELAY_MS}`),
      instant: scripted.replace(/- ".+"/, `- "${long}"`),
      fast: `models:\n  - type: main\n    engine: openai\n    model: fast\nstreaming: True\n${rails}`,
      paced: `models:\n  - type: main\n    engine: openai\n    model: paced\nstreaming: True\n${rails}`,
    };
    for (const [id, yaml] of Object.entries(configs)) {
      mkdirSync(join(root, id));
      writeFileSync(join(root, id, 'config.yml'), yaml);
    }
    return root;
  }

  /** One well-behaved streaming request, read to its end: lost unless it ended with [DONE] and the whole answer. */
  async function streamOnce(port: number, agent: Agent, index: number): Promise<{ firstToken: number; done: number; lost: boolean }> {
    const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: `question ${index}` }], stream: true, config_id: 'chat' });
    const streamed = await streamRequest(port, agent, body);
    if (!streamed?.complete || streamed.text !== answer) return { firstToken: Number.NaN, done: Number.NaN, lost: true };
    return { firstToken: streamed.firstToken, done: streamed.done, lost: false };
  }

  /** A client that sends a streaming request and never reads (or, for the control, reads and drops what it gets). */
  function nonReader(port: number, configId: string, reads = false): Promise<Socket> {
    const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Tell me everything.' }], stream: true, config_id: configId });
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      if (reads) socket.resume();
      else socket.pause();
      socket.on('error', () => undefined);
      socket.once('connect', () =>
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => resolve(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** A streaming request with a 900 KB model field (and max_tokens 5000, as the issue's crash had): its status and time. */
  function overLong(port: number): Promise<{ status: number; ms: number }> {
    const body = JSON.stringify({ model: 'x'.repeat(900_000), messages: [{ role: 'user', content: 'Hi' }], stream: true, max_tokens: 5000, config_id: 'chat' });
    const started = performance.now();
    return new Promise((resolve) => {
      const done = (status: number) => resolve({ status, ms: performance.now() - started });
      const request = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', () => done(response.statusCode!));
          response.on('error', () => done(0));
        },
      );
      request.on('error', () => done(0));
      request.end(body);
    });
  }

  /** The machine's CPU time so far, all cores, in clock ticks: busy and in all. */
  function machineTimes(): { busy: number; total: number } {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = fields.map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    // idle and iowait
    return { busy: total - ticks[3]! - ticks[4]!, total };
  }

  /** The provider's count of streams cut short, and its CPU time so far. */
  const providerState = (provider: ChildProcess) =>
    new Promise<{ cutShort: number; cpuMicroseconds: number }>((resolve) => {
      provider.once('message', (message) => resolve(message as { cutShort: number; cpuMicroseconds: number }));
      provider.send('cut');
    });
  /** The server's CPU time so far, and its event loop's delays since the last ask. */
  interface ServerState {
    cpuMicroseconds: number;
    lagMaxMs: number;
    lagP99Ms: number;
    gc: GcPauses;
  }
  const serverState = (server: ChildProcess) =>
    new Promise<ServerState>((resolve) => {
      server.once('message', (message) => resolve(message as ServerState));
      server.send('state');
    });

  interface Run {
    ttftP50: number;
    ttftP99: number;
    doneP50: number;
    doneP99: number;
    streams: number;
    lost: number;
    peakRss: number;
    startRss: number;
    hwm: number;
    seconds: number;
    /** CPU time over wall time during the run, in % of one core. */
    serverCpu: number;
    /** The server's event-loop delay during the run: its maximum and p99, in ms. */
    lagMaxMs: number;
    lagP99Ms: number;
    /** The server's garbage-collection pauses during the run. */
    gc: GcPauses;
    providerCpu: number;
    /** This process's CPU: the clients' side, on the same 2 cores. */
    loadGeneratorCpu: number;
    /** The machine's busy time over the run, in % of all its cores (from /proc/stat). */
    machineBusy: number;
    nonReadersDropped?: number;
    allDroppedWithinS?: number;
    providerStreamsCut?: number;
    overLong?: { status: number; ms: number }[];
  }

  async function run(kind: Kind, providerPort: number, provider: ChildProcess): Promise<Run> {
    const configs = configFolder();
    const { child, port } = await start('server', ['--configs', configs], { ...process.env, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `http://127.0.0.1:${providerPort}/v1` });
    const pid = child.pid!;
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const sockets: Socket[] = [];
    try {
      // Warm-up: every connection opened, the JIT warm.
      await Promise.all(Array.from({ length: CLIENTS }, (_, index) => streamOnce(port, agent, index)));
      const startRss = memoryBytes(pid, 'VmRSS');
      let peakRss = startRss;
      const providerBefore = await providerState(provider);
      const serverBefore = await serverState(child);
      const loadGeneratorBefore = process.cpuUsage();
      const machineBefore = machineTimes();
      const clientPorts = new Set<number>();
      let allDroppedAt: number | undefined;
      const started = performance.now();
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, memoryBytes(pid, 'VmRSS'));
      }, 20);
      // Which non-readers the server still holds: /proc/net/tcp and the server's fds, read in this process, hold its
      // event loop for several ms with 450 sockets open (read every 20 ms, that was half of this process's time, and its
      // stalls were counted as the server's time to first token in the hostile runs only). Every 500 ms, it is noise.
      const dropProbe = setInterval(() => {
        if (allDroppedAt === undefined && clientPorts.size === NON_READERS && heldConnections(pid, port, [...clientPorts]) === 0) allDroppedAt = performance.now();
      }, 500);
      let overLongResults: Promise<{ status: number; ms: number }[]> = Promise.resolve([]);
      if (kind !== 'clean') {
        for (let index = 0; index < NON_READERS; index++) {
          const socket = await nonReader(port, NON_READER_CONFIG[kind], CONTROLS[kind] !== undefined);
          sockets.push(socket);
          clientPorts.add(socket.localPort!);
        }
        overLongResults = Promise.all(Array.from({ length: OVER_LONG }, () => overLong(port)));
      }
      const ttft: number[] = [];
      const done: number[] = [];
      let lost = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          // Clients start over RAMP_MS, as requests reach a server spread out, not 200 at one instant (whose queue
          // would be most of the p99 of every run).
          await new Promise((resolveStart) => setTimeout(resolveStart, (client * RAMP_MS) / CLIENTS));
          for (let request = 0; request < REQUESTS_PER_CLIENT; request++) {
            const result = await streamOnce(port, agent, client * REQUESTS_PER_CLIENT + request);
            if (result.lost) lost++;
            else {
              ttft.push(result.firstToken);
              done.push(result.done);
            }
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const loadGenerator = process.cpuUsage(loadGeneratorBefore);
      const machineAfter = machineTimes();
      const serverAfter = await serverState(child);
      const providerAfter = await providerState(provider);
      clearInterval(sampler);
      clearInterval(dropProbe);
      peakRss = Math.max(peakRss, memoryBytes(pid, 'VmRSS'));
      const overLongDone = await overLongResults;
      const result: Run = {
        ttftP50: percentile(ttft, 50),
        ttftP99: percentile(ttft, 99),
        doneP50: percentile(done, 50),
        doneP99: percentile(done, 99),
        streams: CLIENTS * REQUESTS_PER_CLIENT,
        lost,
        peakRss,
        startRss,
        hwm: memoryBytes(pid, 'VmHWM'),
        seconds,
        serverCpu: (serverAfter.cpuMicroseconds - serverBefore.cpuMicroseconds) / (seconds * 1e4),
        lagMaxMs: serverAfter.lagMaxMs,
        lagP99Ms: serverAfter.lagP99Ms,
        gc: serverAfter.gc,
        providerCpu: (providerAfter.cpuMicroseconds - providerBefore.cpuMicroseconds) / (seconds * 1e4),
        loadGeneratorCpu: (loadGenerator.user + loadGenerator.system) / (seconds * 1e4),
        machineBusy: (100 * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total),
      };
      if (kind !== 'clean') {
        result.nonReadersDropped = NON_READERS - heldConnections(pid, port, [...clientPorts]);
        if (allDroppedAt !== undefined) result.allDroppedWithinS = round((allDroppedAt - started) / 1000);
        result.providerStreamsCut = providerAfter.cutShort - providerBefore.cutShort;
        result.overLong = overLongDone.map((one) => ({ status: one.status, ms: round(one.ms) }));
      }
      return result;
    } finally {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      child.disconnect();
      rmSync(configs, { recursive: true, force: true });
    }
  }

  const benchStarted = performance.now();
  // The machine's load before the bench: on a shared 2-core machine, other work moves p99 from one run to the next.
  const loadAverage = loadavg().map((value) => round(value));
  const { child: provider, port: providerPort } = await start('provider');
  const rounds = Object.fromEntries(KINDS.map((kind) => [kind, [] as Run[]])) as Record<Kind, Run[]>;
  for (let index = 0; index < ROUNDS; index++) {
    for (const kind of KINDS) {
      const result = await run(kind, providerPort, provider);
      rounds[kind].push(result);
      console.log(
        `round ${index + 1} ${kind.padEnd(8)} ttft p50 ${round(result.ttftP50)} p99 ${round(result.ttftP99)} ms  done p50 ${round(result.doneP50)} p99 ${round(result.doneP99)} ms  lost ${result.lost}/${result.streams}  rss peak ${(result.peakRss / MB).toFixed(0)} MB (start ${(result.startRss / MB).toFixed(0)}, hwm ${(result.hwm / MB).toFixed(0)})  ${result.seconds.toFixed(1)} s  cpu server ${result.serverCpu.toFixed(0)} % provider ${result.providerCpu.toFixed(0)} % clients ${result.loadGeneratorCpu.toFixed(0)} % machine busy ${result.machineBusy.toFixed(0)} %  loop delay p99 ${round(result.lagP99Ms)} max ${round(result.lagMaxMs)} ms  gc ${result.gc.pauses} pauses (${result.gc.majorPauses} major) ${round(result.gc.totalMs)} ms, longest ${round(result.gc.maxMs)} ms` +
          (kind === 'clean'
            ? ''
            : `  non-readers dropped ${result.nonReadersDropped}/${NON_READERS}${result.allDroppedWithinS === undefined ? '' : ` (all by ${result.allDroppedWithinS} s)`}, provider streams cut ${result.providerStreamsCut}, over-long ${result.overLong!.map((one) => one.status).join(',')}`),
      );
    }
  }
  provider.disconnect();

  const summary = (kind: Kind) => {
    const all = rounds[kind];
    const of = (key: 'ttftP50' | 'ttftP99' | 'doneP50' | 'doneP99') => round(median(all.map((one) => one[key])));
    return {
      run: kind,
      timeToFirstTokenMs: { p50: of('ttftP50'), p99: of('ttftP99'), p99ByRound: all.map((one) => round(one.ttftP99)) },
      timeToCompletionMs: { p50: of('doneP50'), p99: of('doneP99'), p99ByRound: all.map((one) => round(one.doneP99)) },
      lostStreams: all.reduce((sum, one) => sum + one.lost, 0),
      streams: all.reduce((sum, one) => sum + one.streams, 0),
      peakRssMB: Math.round(Math.max(...all.map((one) => one.peakRss)) / MB),
      rssAtStartMB: Math.round(median(all.map((one) => one.startRss)) / MB),
      vmHwmMB: Math.round(Math.max(...all.map((one) => one.hwm)) / MB),
      serverCpuPercent: Math.round(median(all.map((one) => one.serverCpu))),
      eventLoopDelayMs: { p99: round(median(all.map((one) => one.lagP99Ms))), max: round(Math.max(...all.map((one) => one.lagMaxMs))) },
      gcPauses: {
        count: Math.round(median(all.map((one) => one.gc.pauses))),
        major: Math.round(median(all.map((one) => one.gc.majorPauses))),
        totalMs: round(median(all.map((one) => one.gc.totalMs))),
        longestMs: round(Math.max(...all.map((one) => one.gc.maxMs))),
      },
      providerCpuPercent: Math.round(median(all.map((one) => one.providerCpu))),
      loadGeneratorCpuPercent: Math.round(median(all.map((one) => one.loadGeneratorCpu))),
      machineBusyPercent: Math.round(median(all.map((one) => one.machineBusy))),
      ...(kind === 'clean'
        ? {}
        : {
            nonReadersDroppedByRound: all.map((one) => one.nonReadersDropped),
            allNonReadersDroppedWithinS: all.map((one) => one.allDroppedWithinS ?? null),
            providerStreamsCutByRound: all.map((one) => one.providerStreamsCut),
            overLongStatuses: [...new Set(all.flatMap((one) => one.overLong!.map((request) => request.status)))],
            overLongSlowestMs: Math.max(...all.flatMap((one) => one.overLong!.map((request) => request.ms))),
          }),
    };
  };
  const results = KINDS.map(summary);
  const clean = results[0]!;
  const targets = results.slice(1).filter((hostile) => CONTROLS[hostile.run as Kind] === undefined).flatMap((hostile) => [
    {
      run: hostile.run,
      target: 'p99 time to first token <= 1.5x the clean run',
      value: round(hostile.timeToFirstTokenMs.p99 / clean.timeToFirstTokenMs.p99),
      met: hostile.timeToFirstTokenMs.p99 <= 1.5 * clean.timeToFirstTokenMs.p99,
    },
    {
      run: hostile.run,
      target: 'p99 time to completion <= 1.5x the clean run',
      value: round(hostile.timeToCompletionMs.p99 / clean.timeToCompletionMs.p99),
      met: hostile.timeToCompletionMs.p99 <= 1.5 * clean.timeToCompletionMs.p99,
    },
    { run: hostile.run, target: 'server peak RSS < 300 MB', value: hostile.peakRssMB, met: hostile.peakRssMB < 300 },
    { run: hostile.run, target: 'lost well-behaved streams = 0', value: hostile.lostStreams, met: hostile.lostStreams === 0 },
  ]);
  console.table(
    results.map((entry) => ({
      run: entry.run,
      'ttft p50': entry.timeToFirstTokenMs.p50,
      'ttft p99': entry.timeToFirstTokenMs.p99,
      'done p50': entry.timeToCompletionMs.p50,
      'done p99': entry.timeToCompletionMs.p99,
      lost: `${entry.lostStreams}/${entry.streams}`,
      'peak RSS MB': entry.peakRssMB,
      'non-readers dropped': entry.nonReadersDroppedByRound?.join(',') ?? '',
      'cpu %': entry.serverCpuPercent,
    })),
  );
  // What not reading costs: the non-readers against 20 clients reading the same streams.
  const controls = Object.entries(CONTROLS).flatMap(([controlKind, hostileKind]) => {
    const readers = results.find((entry) => entry.run === controlKind);
    const hostile = results.find((entry) => entry.run === hostileKind);
    if (!readers || !hostile) return [];
    return [
      {
        comparison: `${hostileKind} non-readers / ${controlKind} (the same 20 provider streams, read)`,
        timeToFirstTokenP99: round(hostile.timeToFirstTokenMs.p99 / readers.timeToFirstTokenMs.p99),
        timeToCompletionP99: round(hostile.timeToCompletionMs.p99 / readers.timeToCompletionMs.p99),
        readersVsCleanTimeToFirstTokenP99: round(readers.timeToFirstTokenMs.p99 / clean.timeToFirstTokenMs.p99),
        readersVsCleanTimeToCompletionP99: round(readers.timeToCompletionMs.p99 / clean.timeToCompletionMs.p99),
      },
    ];
  });
  const control = controls.length === 0 ? undefined : controls;
  console.table(targets);
  if (control) console.log(control);
  const report = {
    benchmark: 'hostile',
    date: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageBefore: loadAverage },
    setup: {
      wellBehaved: `${CLIENTS} clients, each sending ${REQUESTS_PER_CLIENT} streaming requests one after the other (keep-alive, one connection per client; the clients' first requests spread over ${RAMP_MS} ms, the hostile clients arriving at its start) to bench/configs/scripted: ${answer.split(' ').length} words, a word every ${MODEL_DELAY_MS} ms, a keyword rail on windows of 20 / 5; after one warm-up request per client`,
      nonReaders: `${NON_READERS} raw sockets that send a streaming request and never read, at the start of each hostile run, open until its end. instant: a scripted answer of ${INSTANT_WORDS} words given at once; provider: the openai engine on a fake provider (a process of its own) streaming ${PROVIDER_WORDS} deltas at ${PACES.fast.batchBytes} bytes every ${PACES.fast.intervalMs} ms; paced: the same provider, a delta every ${PACES.paced.intervalMs} ms; providerReaders and pacedReaders (controls, no target): 20 clients asking what the provider or paced non-readers ask, and reading it. The same keyword rail on each`,
      overLong: `${OVER_LONG} streaming requests with a 900 KB model field and max_tokens 5000, at the start of each hostile run`,
      lost: 'a well-behaved stream that did not end with data: [DONE] and the whole answer, or whose request failed',
      rss: 'peakRssMB: the highest VmRSS sampled every 20 ms during the runs of that kind (after the warm-up); vmHwmMB: the process high-water mark, start-up included',
      processes: 'the server, the fake provider and this load generator each in a process of their own (2 cores shared); a fresh server per run',
      rounds: `${ROUNDS}, the kinds alternating within each; medians of the rounds reported, peak RSS the highest`,
    },
    results,
    targets,
    control,
    seconds: Math.round((performance.now() - benchStarted) / 1000),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/hostile.json', import.meta.url), JSON.stringify(report, null, 2) + '\n');
  console.log(`written to bench/results/hostile.json (${report.seconds} s)`);
}
