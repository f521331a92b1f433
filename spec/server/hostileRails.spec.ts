// `rxguardrails server` (the built bin, a real process) with rails that could take the whole process down: a
// catastrophic regular expression, which froze the event loop (every request, /health included), and a custom rail
// that leaves a rejected promise behind, which ended the process and every stream in flight.
import { chatBody, healthTime, openStream, type ServerProcess, startBin } from './hostileHarness.js';

describe('rxguardrails server and rails that could take it down (a real process)', () => {
  describe('a catastrophic pattern: regex check with (a+)+$ (spec/fixtures/hostile-regex)', () => {
    // 'a' x 40 then '!': V8's backtracking RegExp (with the u flag) tries 2^40 ways to split the a's; the old server
    // took 13.5 s at 31 characters, doubling with each one more (hours here). The pattern runs on the question (input
    // rail) and on the answer (output rail), which is the same text.
    const CATASTROPHIC = `${'a'.repeat(40)}!`;
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startBin(['server', '--port', '0', '--config', 'spec/fixtures/hostile-regex']);
    });
    afterAll(async () => {
      // A process whose event loop is frozen ignores SIGTERM: stop() kills it after its own deadline.
      await server?.stop();
    });

    it('should answer /health promptly while it checks the pattern, and answer the request', async () => {
      const answer = openStream(server.url, chatBody(CATASTROPHIC, { stream: true }), {}, 10_000);
      // Asked while the request is on its way or being checked: on the old server the later of these queued
      // behind a check that never ended, and each was aborted after its second.
      const health = [];
      for (let round = 0; round < 3; round++) health.push(await healthTime(server.url, 1_000));
      expect(health).toHaveLength(3);
      const read = await answer.result;
      expect(read.broken).toBeUndefined();
      expect(read.text).toBe(CATASTROPHIC);
      expect(read.done).toBe(true);
    });

    it('should still refuse a question the pattern matches (the input rail)', async () => {
      const read = await openStream(server.url, chatBody('aaaa', { stream: true }), {}, 10_000).result;
      expect(read.text).toBe("I'm sorry, I can't respond to that.");
      expect(read.done).toBe(true);
    });
  });

  describe('a rail that leaves a rejected promise behind (spec/fixtures/hostile-strays)', () => {
    // stray: an output rail (rails.mjs) that rejects a promise nobody awaits; steady: a paced answer on a config of
    // its own. Node ends a process on an unhandled rejection by default, and the old server did: every steady
    // stream was cut (no [DONE]), and the process exited with code 1.
    const STEADY_WORDS = 63;
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startBin(['server', '--port', '0', '--config', 'spec/fixtures/hostile-strays', '--default-config-id', 'steady']);
    });
    afterAll(async () => {
      if (server) expect(await server.stop()).toBe(0);
    });

    it('should keep serving the streams of another config, and log the stray rejection', async () => {
      const steady = Array.from({ length: 5 }, () => openStream(server.url, chatBody('How do I reset my router?', { stream: true })));
      await Promise.all(steady.map((stream) => stream.firstToken));
      let strayLoggedAt = Number.POSITIVE_INFINITY;
      const logged = server.waitFor('stray rejection from the stray check rail').then(() => (strayLoggedAt = performance.now()));
      const endedAt = steady.map((stream) => stream.result.then((read) => ({ read, endedAt: performance.now() })));

      const stray = await openStream(server.url, chatBody('How are you?', { stream: true, config_id: 'stray' })).result;
      // The rail's verdict was "allowed": its own request is answered in full.
      expect(stray.text).toBe('Fine, thank you.');
      expect(stray.done).toBe(true);
      await logged;
      expect(server.stderr()).toMatch(/^rxguardrails server: a promise was rejected and nothing caught it \(serving on\): Error: stray rejection from the stray check rail/m);

      for (const { read, endedAt: ended } of await Promise.all(endedAt)) {
        expect(read.broken).toBeUndefined();
        expect(read.done).toBe(true);
        expect(read.text.split(' ')).toHaveLength(STEADY_WORDS);
        // The rejection happened while they were in flight, not after they had ended.
        expect(ended).toBeGreaterThan(strayLoggedAt);
      }
      expect(server.running()).toBe(true);
      expect(await healthTime(server.url, 2_000)).toBeGreaterThan(0);
    });
  });
});
