// `rxguardrails server` (the built bin, a real process) against clients that send a streaming request for a long
// answer and never read it. The old server wrote every frame whatever the socket said, so each such client made it
// buffer the whole answer for as long as the client stayed connected (issue 9: +467 MiB for ten of them). Now, while a
// client is behind, the server stops reading its model's stream (the provider's response waits unread in its socket),
// and a client that takes nothing for --stall-timeout-ms (or leaves more than maxBufferedBytes unread) has its answer
// stopped (the model request aborted) and its connection dropped.
//
// What is measured is the process as an operator sees it: its RSS (/proc/<pid>/status), the connections it holds
// (/proc/<pid>/fd against /proc/net/tcp) and, for a provider behind it, whether the provider's requests were cut short.
import type { Socket } from 'node:net';
import {
  chatBody,
  configFolders,
  healthTime,
  heldConnections,
  type LongUpstream,
  nonReader,
  openStream,
  rawChatRequest,
  rssBytes,
  type ServerProcess,
  startBin,
  startLongUpstream,
  until,
  unreadBytes,
  unreadFrom,
} from './hostileHarness.js';

const CLIENTS = 10;
const MB = 2 ** 20;
/**
 * RSS growth allowed while the non-readers are connected. Measured: +28 to +32 MB (what ten streams' work takes
 * beyond the warm-up's); the old server, which kept each one's whole answer (19 MB of frames, below), +459 MB.
 */
const RSS_BOUND_MB = 100;
/**
 * The server finds a client behind once the kernel's buffers (about 4 MB on loopback) are full, 5 to 6 s at the
 * provider's pace below, and drops it STALL_MS later. The old server never drops one, so any deadline fails it.
 */
const DROP_DEADLINE_MS = 30_000;
const STALL_MS = 8_000;
/**
 * What the server leaves unread of each provider response while its client is behind, at least, before it drops
 * the client. Measured: 124 KB each (the receive window of a socket nobody reads stays at its initial size); the
 * server before the demand read every byte as it came (and buffered the frames), so its unread bytes stayed near 0
 * (8 KB at most in a sample every 0.5 s).
 */
const UNREAD_UPSTREAM_BYTES = 64 * 1024;
/**
 * /health while they are connected. Measured up to 0.9 s, at the moment the ten are dropped (Node creates an error
 * for each write still buffered for a destroyed socket, and the server writes a frame per token: reported); the old
 * server at this pace 0.16 s, so this bound only guards against the event loop being held.
 */
const HEALTH_DEADLINE_MS = 2_000;

/**
 * Connects the non-readers and sends their requests, then samples the server (its RSS, and /health every 50 ms)
 * until it holds none of their connections or the deadline passes.
 */
async function hostileRun(server: ServerProcess, request: string, dropDeadlineMs = DROP_DEADLINE_MS, upstreamPort?: number) {
  const pid = server.child.pid!;
  const baselineRss = rssBytes(pid);
  let peakRss = baselineRss;
  const clients: Socket[] = [];
  let sampling = true;
  try {
    for (let index = 0; index < CLIENTS; index++) clients.push(await nonReader(server.port, request));
    const ports = clients.map((client) => client.localPort!);
    const held = () => heldConnections(pid, server.port, ports);
    // Meanwhile, /health is asked over and over (a sampling rate, not a wait): the slowest answer is kept.
    const health = (async () => {
      let slowest = 0;
      while (sampling) {
        // A /health that does not answer within its deadline counts as infinitely slow.
        slowest = Math.max(slowest, await healthTime(server.url, HEALTH_DEADLINE_MS).catch(() => Number.POSITIVE_INFINITY));
        await new Promise((resolveTick) => setTimeout(resolveTick, 50));
      }
      return slowest;
    })();
    // The kernel accepts a connection before the server does: first, every client has been answered something.
    await until(() => {
      peakRss = Math.max(peakRss, rssBytes(pid));
      return [...unreadBytes(server.port, ports).values()].filter((bytes) => bytes > 0).length === CLIENTS;
    }, 'the server to answer every client', dropDeadlineMs);
    // While they are behind, their provider responses are left unread: the server does not pull what it cannot send.
    let upstreamPaused: boolean | undefined;
    if (upstreamPort !== undefined) {
      upstreamPaused = true;
      await until(() => {
        peakRss = Math.max(peakRss, rssBytes(pid));
        const unread = unreadFrom(upstreamPort);
        return unread.length === CLIENTS && unread.every((bytes) => bytes >= UNREAD_UPSTREAM_BYTES);
      }, 'the server to leave the provider responses of the clients that do not read unread', dropDeadlineMs).catch(() => (upstreamPaused = false));
    }
    let dropped = true;
    try {
      await until(() => {
        peakRss = Math.max(peakRss, rssBytes(pid));
        return held() === 0;
      }, 'the server to drop the clients that do not read', dropDeadlineMs);
    } catch {
      dropped = false;
    }
    sampling = false;
    const slowestHealthMs = await health;
    return { dropped, stillHeld: held(), rssGrowthMB: Math.round((peakRss - baselineRss) / MB), slowestHealthMs, ...(upstreamPaused === undefined ? {} : { upstreamPaused }) };
  } finally {
    sampling = false;
    for (const client of clients) client.destroy();
  }
}

describe('rxguardrails server and clients that never read (a real process)', () => {
  describe('an answer streamed by a provider (the openai engine on a local fake provider)', () => {
    // 100,000 deltas of 'lorem ' (19 MB of SSE frames to the client), sent at about 0.8 MB/s: faster than any
    // model, so a client that does not read falls behind within seconds, and slow enough that one that reads keeps up
    // (against a provider faster than the client reads, a reading client too is dropped once 1 MiB behind: reported).
    const WORDS = 100_000;
    let upstream: LongUpstream;
    let server: ServerProcess;
    beforeAll(async () => {
      upstream = await startLongUpstream(WORDS, 'lorem ', { batchBytes: 8_192, intervalMs: 10 });
      server = await startBin(['server', '--port', '0', '--config', 'spec/fixtures/hostile-upstream', '--stall-timeout-ms', String(STALL_MS)], {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.baseURL,
      });
    });
    afterAll(async () => {
      await server?.stop();
      await upstream?.close();
    });

    it('should stop reading the answers of 10 clients that never read, then stop them (and their provider requests), drop them, keep its memory bounded and /health fast', async () => {
      // Warm-up: ten streams read to their end (max_tokens, which the provider honours, keeps them short), so the
      // heap has grown to what ten streams at once take before the baseline.
      const warm = await Promise.all(Array.from({ length: CLIENTS }, () => openStream(server.url, chatBody('Say lorem.', { stream: true, max_tokens: 5_000 })).result));
      expect(warm.map((read) => read.done && read.text === 'lorem '.repeat(5_000))).toEqual(Array(CLIENTS).fill(true));

      const run = await hostileRun(server, rawChatRequest(server.port, chatBody('Say lorem.', { stream: true })), DROP_DEADLINE_MS, upstream.port);
      // Old server: { dropped: false, stillHeld: 10, rssGrowthMB: 459 } (it kept every answer, read to its end).
      // Before the demand: upstreamPaused false (it read the provider on, buffered 1 MiB of frames, then dropped).
      expect(run).toEqual({ dropped: true, stillHeld: 0, rssGrowthMB: expect.any(Number), slowestHealthMs: expect.any(Number), upstreamPaused: true });
      expect(run.rssGrowthMB).toBeLessThan(RSS_BOUND_MB);
      expect(run.slowestHealthMs).toBeLessThan(HEALTH_DEADLINE_MS);
      // Stopping an answer aborts its model request: the provider saw all ten cut short, none read to its end (the
      // ten it completed are the warm-up's).
      await until(() => upstream.cutShort === CLIENTS, 'the provider requests to be aborted', 5_000);
      expect(upstream.completed).toBe(CLIENTS);
      // And it serves on.
      const after = await openStream(server.url, chatBody('Say lorem.', { stream: true, max_tokens: 100 })).result;
      expect(after.done && after.text === 'lorem '.repeat(100)).toBe(true);
    }, 90_000);
  });

  describe('an answer the model gives at once (scripted, delay_ms: 0)', () => {
    // 80,000 words of 8 characters: a 640 KB config and 17 MB of SSE frames to the client, all produced in one
    // synchronous burst. The burst is the model's own output, written as one piece (a client that reads is never cut,
    // however its answer arrives); what a client that never reads can cost is that burst for --stall-timeout-ms.
    const WORDS = 80_000;
    const STALL_MS = 2_000;
    let folders: ReturnType<typeof configFolders> | undefined;
    let server: ServerProcess;
    beforeAll(async () => {
      folders = configFolders({
        long: `models:\n  - type: main\n    engine: scripted\n    parameters:\n      delay_ms: 0\n      responses:\n        - "${'abcdefg '.repeat(WORDS)}"\nstreaming: True\n`,
      });
      server = await startBin(['server', '--port', '0', '--config', folders.dir, '--stall-timeout-ms', String(STALL_MS)]);
    });
    afterAll(async () => {
      await server?.stop();
      folders?.remove();
    });

    it('should give a client that reads the whole answer', async () => {
      const read = await openStream(server.url, chatBody('Hi', { stream: true })).result;
      expect(read.done && read.text.length === WORDS * 8).toBe(true);
    }, 60_000);

    it('should drop 10 clients that never read within --stall-timeout-ms, and serve on', async () => {
      // The old server never drops one (it held each answer for as long as its client stayed connected).
      const run = await hostileRun(server, rawChatRequest(server.port, chatBody('Hi', { stream: true })), STALL_MS + 10_000);
      expect(run).toEqual({ dropped: true, stillHeld: 0, rssGrowthMB: expect.any(Number), slowestHealthMs: expect.any(Number) });
      const after = await openStream(server.url, chatBody('Hi', { stream: true })).result;
      expect(after.done).toBe(true);
    }, 90_000);
  });
});
