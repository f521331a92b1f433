// Peers benchmark: the same token stream through rxguardrails and its peers, in one run.
//
//   npm --prefix bench/peers ci && npm --prefix bench/peers run bench
//
// Writes bench/peers/results.json and bench/peers/results.md. Peers (each on its own public path, defaults kept):
// - raw openai loop: `for await` over `openai`'s chat stream, no checks (the reference every ratio is against);
// - rxguardrails: `fromOpenAI(client, params, { usage }).pipe(guard([keywordRail([PHRASE])], { streamFirst }))`,
//   streamFirst true and false, NeMo's default windows (chunkSize 200, contextSize 50);
// - @openai/guardrails: `GuardrailsOpenAI.create(config)` with its built-in "Keyword Filter" output check (no LLM),
//   then `client.chat.completions.create({ stream: true })`; it catches `GuardrailTripwireTriggered`;
// - AI SDK: `streamText` on `createOpenAI({ baseURL }).chat(model)` with an `experimental_transform` that holds
//   back the last PHRASE.length characters, checks what it holds plus the new delta, and calls `stopStream()`;
// - naive re-check: the raw loop, re-checking the whole accumulated text on every delta (the quadratic baseline).
//
// Two transports, the same SSE bytes: "memory" gives each SDK client a `fetch` that answers from memory (a
// synthetic async source of deltas framed as OpenAI chat-completion chunks, no socket); "http" points the real
// clients at a node:http server on 127.0.0.1 in a child process (so its CPU is not counted), which paces the frames
// (FRAMES_PER_TICK every millisecond) so that a client that stops early is seen closing the connection before the
// server finished. Both add a usage chunk when `stream_options.include_usage` is asked.
//
// Method: CPU per stream is process.cpuUsage() around one stream (the client process only). Every case runs once as
// a warm-up, then ROUNDS interleaved rounds (every peer once per round, on the answer with the phrase and on the same
// answer without it; the order of the peers changes every round, a seeded shuffle); medians count, and ratios are taken
// against the raw loop's median of the same run and transport. Scaling: clean streams (no phrase) of 1 k, 10 k and 100 k deltas on the memory transport, each peer and
// size alone in a fresh process (a warm-up, then its rounds), so no peer pays for another's garbage; the exponent is
// the least-squares slope of log(cpu) over log(n). A peer whose 100 k run would pass SCALING_LIMIT_MS (predicted from
// its 1 k → 10 k growth, or hit while running) is skipped there.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const PHRASE = 'secret plan';
// Split over three deltas, with a space on each side (@openai/guardrails' Keyword Filter matches whole words only).
const PHRASE_PIECES = [' sec', 'ret p', 'lan '];
const FILLER = [' the', 'ing ', ' and', 'tion', ' of ', 'ed a', ' to ', 'er, ', 'ment', ' is '];
const BLOCK_DELTAS = 2_000;
const ROUNDS = Number(process.env.PEERS_BENCH_ROUNDS ?? 15);
const SCALING_SIZES = (process.env.PEERS_BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const SCALING_ROUNDS: Record<number, number> = { 1_000: 9, 10_000: 5, 100_000: 3 };
const SCALING_LIMIT_MS = 60_000;
const RUN_TIMEOUT_MS = 30_000;
const FRAMES_PER_TICK = 10;
const FRAMES_PER_PULL = 16;
const MESSAGES = [{ role: 'user' as const, content: 'Tell me about the plan.' }];

/** The deltas of one answer: filler, with the phrase split over three deltas in the middle when asked. */
function answerDeltas(count: number, withPhrase: boolean): string[] {
  const deltas = Array.from({ length: count }, (_, position) => FILLER[position % FILLER.length]!);
  if (withPhrase) deltas.splice(Math.floor(count / 2), PHRASE_PIECES.length, ...PHRASE_PIECES);
  return deltas;
}

/** The model name carries the scenario to the server: `bench-<run id>-<deltas>-<1 if the phrase is in>`. */
const modelName = (runId: number, count: number, withPhrase: boolean) => `bench-${runId}-${count}-${withPhrase ? 1 : 0}`;
function parseModel(model: string): { runId: number; count: number; withPhrase: boolean } {
  const [, runId, count, withPhrase] = model.split('-');
  return { runId: Number(runId), count: Number(count), withPhrase: withPhrase === '1' };
}

/** SSE frames of an OpenAI chat completion stream, as the fixtures have them (usage: null until the usage chunk). */
function* sseFrames(model: string, deltas: string[], includeUsage: boolean): Generator<string> {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_770_000_000, model, system_fingerprint: 'fp_bench', ...(includeUsage && { usage: null }) };
  const frame = (choices: object[], extra: object = {}) => `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`;
  yield frame([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  for (const content of deltas) yield frame([{ index: 0, delta: { content }, logprobs: null, finish_reason: null }]);
  yield frame([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  if (includeUsage) yield frame([], { usage: { prompt_tokens: 12, completion_tokens: deltas.length, total_tokens: 12 + deltas.length } });
  yield 'data: [DONE]\n\n';
}

interface RequestBody {
  model: string;
  stream_options?: { include_usage?: boolean };
}

// ---------------------------------------------------------------------------------------------------------------
// Transports

interface Transport {
  name: 'memory' | 'http';
  baseURL: string;
  fetch?: typeof fetch;
  /** Resolves with whether the client cancelled the given run before the answer's last frame. */
  cancelled(runId: number): Promise<boolean | undefined>;
  close(): void;
}

/** Answers every request from memory, a pull-driven stream of FRAMES_PER_PULL frames at a time. */
function memoryTransport(): Transport {
  const outcomes = new Map<number, boolean>();
  const memoryFetch = (async (_input: unknown, init?: RequestInit) => {
    const parsed = JSON.parse(String(init?.body)) as RequestBody;
    const { runId, count, withPhrase } = parseModel(parsed.model);
    const frames = sseFrames(parsed.model, answerDeltas(count, withPhrase), parsed.stream_options?.include_usage === true);
    const encoder = new TextEncoder();
    const deadline = Date.now() + SCALING_LIMIT_MS;
    let finished = false;
    const settle = (cancelled: boolean) => {
      if (!outcomes.has(runId)) outcomes.set(runId, cancelled);
    };
    init?.signal?.addEventListener('abort', () => settle(!finished), { once: true });
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (Date.now() > deadline) {
          controller.error(new Error(`over ${SCALING_LIMIT_MS} ms`));
          return;
        }
        let text = '';
        for (let index = 0; index < FRAMES_PER_PULL; index++) {
          const next = frames.next();
          if (next.done) {
            finished = true;
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            settle(false);
            return;
          }
          text += next.value;
        }
        controller.enqueue(encoder.encode(text));
      },
      cancel() {
        settle(!finished);
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
  }) as typeof fetch;
  return {
    name: 'memory',
    baseURL: 'http://memory.invalid/v1',
    fetch: memoryFetch,
    cancelled: async (runId) => outcomes.get(runId) ?? false,
    close: () => undefined,
  };
}

async function httpTransport(): Promise<Transport> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const outcomes = new Map<number, boolean>();
  const waiting = new Map<number, (cancelled: boolean) => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message: { port?: number; runId?: number; cancelled?: boolean }) => {
      if (message.port !== undefined) resolve(message.port);
      if (message.runId !== undefined) {
        outcomes.set(message.runId, message.cancelled!);
        waiting.get(message.runId)?.(message.cancelled!);
      }
    });
  });
  return {
    name: 'http',
    baseURL: `http://127.0.0.1:${port}/v1`,
    cancelled: (runId) =>
      outcomes.has(runId)
        ? Promise.resolve(outcomes.get(runId))
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve(undefined), 5_000);
            waiting.set(runId, (cancelled) => {
              clearTimeout(timer);
              resolve(cancelled);
            });
          }),
    close: () => child.disconnect(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Peers

type UsageOutcome = 'provider' | 'estimate' | 'none';
interface Outcome {
  blocked: boolean;
  usage: UsageOutcome;
  error?: string;
}
interface Sink {
  (text: string): void;
}
interface Peer {
  name: string;
  /**
   * Streams run `runId` (`count` deltas, the phrase in or not) into `sink`. `askUsage: false` leaves out
   * `stream_options.include_usage` where the peer lets the caller choose (only the scaling runs of @openai/guardrails,
   * whose stream throws a TypeError on the usage chunk).
   */
  run(runId: number, count: number, withPhrase: boolean, sink: Sink, askUsage?: boolean): Promise<Outcome>;
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

async function makePeers(transport: Transport): Promise<Peer[]> {
  const [{ default: OpenAI }, { GuardrailsOpenAI, GuardrailTripwireTriggered }, { streamText }, { createOpenAI }, rx] = await Promise.all([
    import('openai'),
    import('@openai/guardrails'),
    import('ai'),
    import('@ai-sdk/openai'),
    import('rxguardrails'),
  ]);
  const clientOptions = { apiKey: 'sk-bench-not-a-key', baseURL: transport.baseURL, maxRetries: 0, timeout: RUN_TIMEOUT_MS, ...(transport.fetch && { fetch: transport.fetch }) };
  const openai = new OpenAI(clientOptions);
  const guardrailsClient = await GuardrailsOpenAI.create(
    { version: 1, output: { version: 1, guardrails: [{ name: 'Keyword Filter', config: { keywords: [PHRASE] } }] } },
    // openai 4 (its own copy) types `fetch` with its node-fetch shims; at run time it calls the global-style fetch given.
    clientOptions as never,
  );
  const aiProvider = createOpenAI({ apiKey: clientOptions.apiKey, baseURL: transport.baseURL, ...(transport.fetch && { fetch: transport.fetch }) });

  const rawLoop = (check: boolean): Peer['run'] => async (runId, count, withPhrase, sink) => {
    const stream = await openai.chat.completions.create({ model: modelName(runId, count, withPhrase), messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    let usage: UsageOutcome = 'none';
    let accumulated = '';
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content;
      if (text) {
        if (check) {
          accumulated += text;
          // The whole answer so far, on every delta: the obvious check, quadratic in the answer's length.
          if (accumulated.includes(PHRASE)) return { blocked: true, usage };
        }
        sink(text);
      }
      if (chunk.usage) usage = 'provider';
    }
    return { blocked: false, usage };
  };

  const rxguardrails = (streamFirst: boolean): Peer['run'] => (runId, count, withPhrase, sink) =>
    new Promise<Outcome>((resolve) => {
      const usage = new rx.UsageTracker();
      const usageOutcome = (): UsageOutcome => {
        const call = usage.snapshot().calls[0];
        return call?.totalTokens === undefined ? 'none' : call.estimated ? 'estimate' : 'provider';
      };
      rx.fromOpenAI(openai, { model: modelName(runId, count, withPhrase), messages: MESSAGES }, { usage })
        .pipe(rx.guard([rx.keywordRail([PHRASE])], { streamFirst }))
        .subscribe({
          next: sink,
          // The call is recorded as the pipeline tears down, which RxJS does just after the error notification:
          // the app reads the tracker a macrotask later (calls$ would see it as it lands).
          error: (error: unknown) =>
            setImmediate(() =>
              resolve(rx.RailViolationError.isInstance(error) ? { blocked: true, usage: usageOutcome() } : { blocked: false, usage: usageOutcome(), error: describe(error) }),
            ),
          complete: () => setImmediate(() => resolve({ blocked: false, usage: usageOutcome() })),
        });
    });

  const openaiGuardrails: Peer['run'] = async (runId, count, withPhrase, sink, askUsage = true) => {
    let usage: UsageOutcome = 'none';
    try {
      const stream = (await guardrailsClient.chat.completions.create({
        model: modelName(runId, count, withPhrase),
        messages: MESSAGES,
        stream: true,
        ...(askUsage && { stream_options: { include_usage: true } }),
      })) as unknown as AsyncIterable<{ choices?: { delta?: { content?: string | null } }[]; usage?: unknown }>;
      for await (const chunk of stream) {
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) sink(text);
        if (chunk.usage) usage = 'provider';
      }
      return { blocked: false, usage };
    } catch (error) {
      if (error instanceof GuardrailTripwireTriggered) return { blocked: true, usage };
      return { blocked: false, usage, error: describe(error) };
    }
  };

  const aiSdk: Peer['run'] = async (runId, count, withPhrase, sink) => {
    let blocked = false;
    let streamError: unknown;
    // The obvious hold-back: keep the last PHRASE.length characters, check them with each new delta, release the rest.
    const holdBack = ({ stopStream }: { stopStream: () => void }) => {
      let held = '';
      let id = '';
      return new TransformStream<{ type: string; text?: string; id?: string }, { type: string; text?: string; id?: string }>({
        transform(part, controller) {
          if (blocked) return;
          if (part.type === 'text-delta') {
            id = part.id!;
            const buffer = held + part.text!;
            if (buffer.includes(PHRASE)) {
              blocked = true;
              stopStream();
              return;
            }
            const releasable = buffer.length - PHRASE.length;
            if (releasable > 0) controller.enqueue({ ...part, text: buffer.slice(0, releasable) });
            held = releasable > 0 ? buffer.slice(releasable) : buffer;
            return;
          }
          if (part.type === 'text-end' && held) {
            controller.enqueue({ type: 'text-delta', id, text: held });
            held = '';
          }
          controller.enqueue(part);
        },
      });
    };
    const result = streamText({
      model: aiProvider.chat(modelName(runId, count, withPhrase)),
      messages: MESSAGES,
      maxRetries: 0,
      experimental_transform: holdBack as never,
      onError: ({ error }) => (streamError = error),
    });
    for await (const text of result.textStream) sink(text);
    // Usage after the stream: whatever totalUsage resolves to within a second (a stopped stream may never settle it).
    const totalUsage = await Promise.race([
      Promise.resolve(result.totalUsage).then(
        (value) => value as { outputTokens?: number },
        () => undefined,
      ),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000).unref()),
    ]);
    const usage: UsageOutcome = typeof totalUsage?.outputTokens === 'number' ? 'provider' : 'none';
    return { blocked, usage, ...(streamError !== undefined && !blocked && { error: describe(streamError) }) };
  };

  const only = process.env.PEERS_BENCH_ONLY?.split(',');
  return [
    { name: 'raw openai loop (reference)', run: rawLoop(false) },
    { name: 'rxguardrails streamFirst: true', run: rxguardrails(true) },
    { name: 'rxguardrails streamFirst: false', run: rxguardrails(false) },
    { name: '@openai/guardrails (Keyword Filter)', run: openaiGuardrails },
    { name: 'AI SDK streamText + hold-back transform', run: aiSdk },
    { name: 'naive re-check per delta', run: rawLoop(true) },
  ].filter((peer, index) => index === 0 || !only || only.some((prefix) => peer.name.startsWith(prefix)));
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

interface Measurement {
  cpuMs: number;
  wallMs: number;
  firstTokenMs: number | undefined;
  released: number;
  phraseCharactersReleased: number;
  releasedPastPhraseStart: number;
  blocked: boolean;
  cancelled: boolean | undefined;
  usage: UsageOutcome;
  error?: string;
}

let nextRunId = 1;


async function measure(peer: Peer, transport: Transport, count: number, withPhrase: boolean, askUsage = true): Promise<Measurement> {
  const runId = nextRunId++;
  const expected = answerDeltas(count, withPhrase).join('');
  const phraseStart = withPhrase ? expected.indexOf(PHRASE) : -1;
  const pieces: string[] = [];
  let firstToken: number | undefined;
  let started = 0;
  const sink: Sink = (text) => {
    if (firstToken === undefined) firstToken = performance.now() - started;
    pieces.push(text);
  };
  await new Promise((resolve) => setImmediate(resolve));
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    peer.run(runId, count, withPhrase, sink, askUsage).catch((error: unknown): Outcome => ({ blocked: false, usage: 'none', error: describe(error) })),
    new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ blocked: false, usage: 'none', error: `timed out after ${RUN_TIMEOUT_MS} ms` }), RUN_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  // Work the peer left queued when its stream ended still counts as its own.
  await new Promise((resolve) => setImmediate(resolve));
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  const released = pieces.join('');
  if (!expected.startsWith(released)) throw new Error(`${peer.name}: released text is not a prefix of the answer`);
  if (!withPhrase && !outcome.error && released !== expected) throw new Error(`${peer.name}: ${released.length} of ${expected.length} characters arrived on a clean stream`);
  const past = phraseStart < 0 ? 0 : Math.max(0, released.length - phraseStart);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    firstTokenMs: firstToken,
    released: released.length,
    phraseCharactersReleased: Math.min(PHRASE.length, past),
    releasedPastPhraseStart: past,
    blocked: outcome.blocked,
    cancelled: await transport.cancelled(runId),
    usage: outcome.usage,
    ...(outcome.error !== undefined && { error: outcome.error }),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const mostCommon = <T>(values: T[]): T => {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
};
/** A new order for every round (seeded, so runs are repeatable): a peer does not always follow the same one. */
function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed * 2_654_435_761 + 1;
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

async function blockScenario(transport: Transport, peers: Peer[]) {
  // Each round streams the answer with the phrase (the block) and the same answer without it (the clean stream, where
  // every peer reads all deltas, so its CPU compares equal work), usage asked in both.
  const runs = new Map<string, Measurement[]>(peers.map((peer) => [peer.name, []]));
  const cleanRuns = new Map<string, Measurement[]>(peers.map((peer) => [peer.name, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const peer of shuffled(peers, round + 1)) {
      const blocked = await measure(peer, transport, BLOCK_DELTAS, true);
      const clean = await measure(peer, transport, BLOCK_DELTAS, false);
      // Round -1 is the warm-up.
      if (round >= 0) {
        runs.get(peer.name)!.push(blocked);
        cleanRuns.get(peer.name)!.push(clean);
      }
    }
  }
  const referenceCpu = median(runs.get(peers[0]!.name)!.map((run) => run.cpuMs));
  const referenceCleanCpu = median(cleanRuns.get(peers[0]!.name)!.map((run) => run.cpuMs));
  const fullLength = answerDeltas(BLOCK_DELTAS, false).join('').length;
  return peers.map((peer) => {
    const measured = runs.get(peer.name)!;
    const cleanMeasured = cleanRuns.get(peer.name)!;
    const cleanCpuMs = median(cleanMeasured.map((run) => run.cpuMs));
    const cpuMs = median(measured.map((run) => run.cpuMs));
    const firstTokens = measured.map((run) => run.firstTokenMs).filter((value): value is number => value !== undefined);
    const errors = [...new Set(measured.map((run) => run.error).filter((error): error is string => error !== undefined))];
    return {
      transport: transport.name,
      peer: peer.name,
      runs: measured.length,
      cpuMsPerStream: round(cpuMs, 3),
      cpuRatioToRaw: round(cpuMs / referenceCpu, 3),
      wallMs: round(median(measured.map((run) => run.wallMs)), 1),
      firstTokenMs: firstTokens.length ? round(median(firstTokens), 2) : null,
      blocked: mostCommon(measured.map((run) => run.blocked)),
      phraseCharactersReleased: mostCommon(measured.map((run) => run.phraseCharactersReleased)),
      releasedPastPhraseStart: median(measured.map((run) => run.releasedPastPhraseStart)),
      upstreamCancelled: mostCommon(measured.map((run) => run.cancelled ?? null)),
      usageAfterStream: mostCommon(measured.map((run) => run.usage)),
      errors,
      cleanStream: {
        cpuMsPerStream: round(cleanCpuMs, 3),
        cpuRatioToRaw: round(cleanCpuMs / referenceCleanCpu, 3),
        firstTokenMs: round(median(cleanMeasured.map((run) => run.firstTokenMs ?? Number.NaN)), 2),
        completeText: mostCommon(cleanMeasured.map((run) => run.released === fullLength)),
        usage: mostCommon(cleanMeasured.map((run) => run.usage)),
        error: mostCommon(cleanMeasured.map((run) => run.error ?? null)),
      },
    };
  });
}

/**
 * One peer alone at one size, in this (child) process: three warm-up runs at 1 k deltas, then `rounds` runs; prints the
 * CPU of each as JSON. Scaling runs are isolated this way because a peer that leaves much garbage (the AI SDK's teed
 * streams) made the next peer's 100 k run pay for its collection: the raw loop took 5x its own CPU after it.
 */
async function scaleChild(peerIndex: number, count: number, rounds: number) {
  const transport = memoryTransport();
  const peer = (await makePeers(transport))[peerIndex]!;
  for (let warmUp = 0; warmUp < 3; warmUp++) await measure(peer, transport, Math.min(count, 1_000), false, false);
  const cpuMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const measured = await measure(peer, transport, count, false, false);
    if (measured.error) {
      console.log(JSON.stringify({ error: measured.error }));
      return;
    }
    cpuMs.push(measured.cpuMs);
  }
  console.log(JSON.stringify({ cpuMs }));
}

async function scalingScenario(peers: Peer[]) {
  const { execFile } = await import('node:child_process');
  const rows: { peer: string; deltas: number; runs: number; cpuMsPerStream: number | null; skipped?: string }[] = [];
  const cpuAt = new Map<string, number>();
  for (const count of SCALING_SIZES) {
    for (const [peerIndex, peer] of peers.entries()) {
      const rounds = SCALING_ROUNDS[count] ?? 3;
      const at1k = cpuAt.get(`${peer.name}@1000`);
      const at10k = cpuAt.get(`${peer.name}@10000`);
      const predicted = count === 100_000 && at1k && at10k ? at10k * (at10k / at1k) : 0;
      let skipped: string | undefined;
      let cpuMs: number[] = [];
      if (predicted > SCALING_LIMIT_MS) skipped = `predicted ${Math.round(predicted / 1000)} s from its 1 k -> 10 k growth (limit ${SCALING_LIMIT_MS / 1000} s)`;
      else {
        const output = await new Promise<string>((resolve) =>
          execFile(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--scale', String(peerIndex), String(count), String(rounds)], { timeout: (rounds + 1) * (SCALING_LIMIT_MS + 15_000), maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
            resolve(error ? JSON.stringify({ error: describe(error) }) : stdout),
          ),
        );
        const result = JSON.parse(output.trim().split('\n').pop()!) as { cpuMs?: number[]; error?: string };
        if (result.error) skipped = result.error.includes(`over ${SCALING_LIMIT_MS} ms`) ? `over ${SCALING_LIMIT_MS / 1000} s` : result.error;
        else cpuMs = result.cpuMs!;
      }
      const value = cpuMs.length ? median(cpuMs) : null;
      if (value !== null) cpuAt.set(`${peer.name}@${count}`, value);
      rows.push({ peer: peer.name, deltas: count, runs: cpuMs.length, cpuMsPerStream: value === null ? null : round(value, 3), ...(skipped !== undefined && { skipped }) });
      console.log(`scaling: ${peer.name} at ${count} deltas: ${value === null ? `skipped (${skipped})` : `${round(value, 1)} ms`}`);
    }
  }
  const exponents = peers.map((peer) => {
    const points = SCALING_SIZES.filter((count) => cpuAt.has(`${peer.name}@${count}`)).map((count) => [Math.log(count), Math.log(cpuAt.get(`${peer.name}@${count}`)!)] as const);
    const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
    const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
    const slope = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0) / points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
    const reference = cpuAt.get(`${peers[0]!.name}@${SCALING_SIZES.filter((count) => cpuAt.has(`${peer.name}@${count}`)).at(-1)}`);
    const largest = SCALING_SIZES.filter((count) => cpuAt.has(`${peer.name}@${count}`)).at(-1)!;
    const last = points.slice(-2);
    return {
      peer: peer.name,
      exponent: points.length >= 2 ? round(slope, 3) : null,
      // Between the two largest sizes measured: where a superlinear cost shows first.
      exponentLastStep: last.length === 2 ? round((last[1]![1] - last[0]![1]) / (last[1]![0] - last[0]![0]), 3) : null,
      fittedOver: points.map(([x]) => Math.round(Math.exp(x))),
      cpuRatioToRawAtLargest: reference ? round(cpuAt.get(`${peer.name}@${largest}`)! / reference, 3) : null,
      largest,
    };
  });
  return { rows, exponents };
}

async function main() {
  const loadBefore = loadavg();
  console.log(`rxguardrails peers benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);
  const memory = memoryTransport();
  const http = await httpTransport();
  try {
    const memoryPeers = await makePeers(memory);
    const httpPeers = await makePeers(http);
    const block = [...(await blockScenario(memory, memoryPeers)), ...(await blockScenario(http, httpPeers))];
    console.table(block.map(({ errors: _errors, ...row }) => row));
    const scaling = process.env.PEERS_BENCH_SKIP_SCALING ? { rows: [], exponents: [] } : await scalingScenario(memoryPeers);
    console.table(scaling.rows);
    console.table(scaling.exponents);
    const loadAfter = loadavg();
    const report = {
      benchmark: 'peers',
      date: new Date().toISOString(),
      machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageBefore: loadBefore.map((value) => round(value)), loadAverageAfter: loadAfter.map((value) => round(value)) },
      versions: await versions(),
      setup: { phrase: PHRASE, phrasePieces: PHRASE_PIECES, blockDeltas: BLOCK_DELTAS, phraseAtDelta: Math.floor(BLOCK_DELTAS / 2), rounds: ROUNDS, scalingSizes: SCALING_SIZES, scalingRounds: SCALING_ROUNDS, framesPerTick: FRAMES_PER_TICK, framesPerPull: FRAMES_PER_PULL },
      method:
        'CPU: process.cpuUsage() of the client process around one stream; medians of interleaved rounds after a warm-up; ratios against the raw openai loop of the same run and transport. ' +
        'phraseCharactersReleased: characters of the phrase the consumer received; releasedPastPhraseStart: characters received from the phrase start on. ' +
        'upstreamCancelled: the server (http: a child process; memory: the in-memory body) saw the response closed or aborted before its last frame. ' +
        'usageAfterStream: provider (the usage chunk reached the app), estimate (rxguardrails records an estimate flagged estimated: true), none. ' +
        'Scaling: clean streams on the memory transport; exponent: least-squares slope of log(cpu) over log(deltas).',
      block,
      scaling,
    };
    writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(new URL('./results.md', import.meta.url), markdown(report));
    console.log('written to bench/peers/results.json and bench/peers/results.md');
  } finally {
    memory.close();
    http.close();
  }
}

async function versions() {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { readFileSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  // Walks up from the package's entry point: not every package exports its package.json.
  const version = (name: string, from = require) => {
    try {
      for (let directory = dirname(from.resolve(name)); directory !== dirname(directory); directory = dirname(directory)) {
        try {
          const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version: string };
          if (manifest.name === name) return manifest.version;
        } catch {
          // no package.json at this level
        }
      }
    } catch {
      // not resolvable from here
    }
    return 'unknown';
  };
  const guardrailsRequire = createRequire(require.resolve('@openai/guardrails'));
  return {
    rxguardrails: version('rxguardrails'),
    openai: version('openai'),
    '@openai/guardrails': version('@openai/guardrails'),
    'openai (inside @openai/guardrails)': version('openai', guardrailsRequire),
    ai: version('ai'),
    '@ai-sdk/openai': version('@ai-sdk/openai'),
  };
}

type Report = {
  date: string;
  machine: { node: string; cpus: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  versions: Record<string, string>;
  block: Awaited<ReturnType<typeof blockScenario>>;
  scaling: Awaited<ReturnType<typeof scalingScenario>>;
};

function markdown(report: Report): string {
  const yesNo = (value: boolean | null) => (value === null ? 'n/a' : value ? 'yes' : 'no');
  const lines = [
    `<!-- generated by \`npm --prefix bench/peers run bench\` on ${report.date}; do not edit -->`,
    `### rxguardrails and its peers on one token stream`,
    '',
    `${BLOCK_DELTAS} deltas of about 4 characters, "${PHRASE}" split over ${PHRASE_PIECES.length} deltas at delta ${Math.floor(BLOCK_DELTAS / 2)}. ` +
      `Medians of ${ROUNDS} interleaved rounds; CPU of the client process per stream, as a ratio to the raw \`openai\` loop (no checks) of the same run. ` +
      `Node ${report.machine.node}, ${report.machine.cpus} shared cores, load average ${report.machine.loadAverageBefore.join(' ')} at the start and ${report.machine.loadAverageAfter.join(' ')} at the end. ` +
      Object.entries(report.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ') +
      '.',
    '',
  ];
  for (const transport of ['http', 'memory'] as const) {
    lines.push(
      transport === 'http' ? '**Over loopback HTTP** (real SDK clients, server in another process):' : '**In process** (the same SSE bytes from memory through each SDK client, no socket):',
      '',
      '| peer | CPU, clean stream | × raw loop | CPU, blocked stream | × raw loop | phrase characters shown | characters shown from the phrase on | first token | upstream cancelled | usage after the block | usage after a clean stream |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    );
    for (const row of report.block.filter((entry) => entry.transport === transport)) {
      const reference = row.peer.startsWith('raw');
      lines.push(
        `| ${row.peer} | ${row.cleanStream.cpuMsPerStream.toFixed(1)} ms | ${row.cleanStream.cpuRatioToRaw.toFixed(2)} | ${row.cpuMsPerStream.toFixed(1)} ms | ${row.cpuRatioToRaw.toFixed(2)} | ${reference ? `${row.phraseCharactersReleased} (no check)` : row.phraseCharactersReleased} | ${row.releasedPastPhraseStart} | ${row.firstTokenMs === null ? 'none' : `${row.firstTokenMs.toFixed(1)} ms`} | ${yesNo(row.upstreamCancelled)} | ${row.usageAfterStream}${row.errors.length ? ` (error: ${row.errors.join('; ')})` : ''} | ${row.cleanStream.error ? `none: ${row.cleanStream.error}${row.cleanStream.completeText ? ' (after the whole text)' : ''}` : row.cleanStream.usage} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    `**Cost exponent** (clean streams in process; CPU per stream at 1 k / 10 k / 100 k deltas, slope of log(cpu) over log(n)):`,
    '',
    '| peer | 1 k | 10 k | 100 k | exponent | exponent, last step | × raw loop at the largest size |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const exponent of report.scaling.exponents) {
    const cell = (count: number) => {
      const row = report.scaling.rows.find((entry) => entry.peer === exponent.peer && entry.deltas === count);
      if (!row) return 'not run';
      return row.cpuMsPerStream === null ? `skipped${row.skipped ? ` (${row.skipped})` : ''}` : `${row.cpuMsPerStream.toFixed(1)} ms`;
    };
    lines.push(`| ${exponent.peer} | ${cell(1_000)} | ${cell(10_000)} | ${cell(100_000)} | ${exponent.exponent ?? 'n/a'} | ${exponent.exponentLastStep ?? 'n/a'} | ${exponent.cpuRatioToRawAtLargest ?? 'n/a'} |`);
  }
  const http = (name: string) => report.block.find((row) => row.transport === 'http' && row.peer.startsWith(name))!;
  const shown = (name: string) => `${http(name).releasedPastPhraseStart} characters from the phrase on (${http(name).phraseCharactersReleased} of its ${PHRASE.length})`;
  lines.push(
    '',
    'What each peer does on the block (over HTTP):',
    '',
    `- rxguardrails, \`streamFirst: true\`: windows of 200 deltas overlapping by 50 (NeMo's defaults); the window holding the phrase is checked when it is complete, so ${shown('rxguardrails streamFirst: true')} had gone out. The violation unsubscribes the source, which aborts the request; the call is recorded with estimated usage (\`estimated: true\`).`,
    `- rxguardrails, \`streamFirst: false\`: ${shown('rxguardrails streamFirst: false')}; the first token waits for the first window (51 deltas).`,
    `- @openai/guardrails: checks the whole accumulated text every 100 text chunks and at the end; ${shown('@openai/guardrails')}, then it yields the chunk that tripped and throws \`GuardrailTripwireTriggered\`, whose exit from \`for await\` aborts the request. No usage: the usage chunk never came. On a clean stream with \`stream_options.include_usage\` the usage chunk (\`choices: []\`) makes its text extraction throw a TypeError after the whole text, so usage is lost there too (the scaling runs leave \`include_usage\` out for it).`,
    `- AI SDK \`streamText\` with a hold-back transform: ${shown('AI SDK')}; \`stopStream()\` aborts the request; \`totalUsage\` gave no figure within a second of the stop.`,
    `- naive re-check: withholds the delta that completes the phrase, but ${shown('naive')} had gone out; \`break\` aborts the request; no usage.`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Server mode (child process): `--serve` streams each request's frames, paced, and reports to the parent whether the
// client closed the connection before the last frame was written.
function serve(): void {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (piece: Buffer) => (body += piece));
    request.on('end', () => {
      const parsed = JSON.parse(body) as RequestBody;
      const { runId, count, withPhrase } = parseModel(parsed.model);
      const frames = sseFrames(parsed.model, answerDeltas(count, withPhrase), parsed.stream_options?.include_usage === true);
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      response.on('close', () => {
        clearTimeout(timer);
        process.send!({ runId, cancelled: !finished, includeUsage: parsed.stream_options?.include_usage === true });
      });
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      const tick = () => {
        if (response.destroyed) return;
        for (let written = 0; written < FRAMES_PER_TICK; written++) {
          const next = frames.next();
          if (next.done) {
            finished = true;
            response.end();
            return;
          }
          if (!response.write(next.value)) {
            response.once('drain', tick);
            return;
          }
        }
        timer = setTimeout(tick, 1);
      };
      tick();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}


if (process.argv.includes('--serve')) serve();
else if (process.argv.includes('--scale')) {
  const [peerIndex, count, rounds] = process.argv.slice(process.argv.indexOf('--scale') + 1).map(Number);
  await scaleChild(peerIndex!, count!, rounds!);
  process.exit(0);
} else await main();
