// `rxguardrails server` (the built bin, a real process) at its start and at its end: SIGTERM with paced streams in
// flight (a rolling deploy stops it this way), and a folder of configs one of which cannot run on this machine.
import { chatBody, getOnce, openStream, postChat, type ServerProcess, startBin } from './hostileHarness.js';

/** spec/fixtures/hostile-paced: short (25 words, 0.5 s) and long (520 words, over 10 s), a word every 20 ms. */
const PACED = 'spec/fixtures/hostile-paced';
const SHORT_ANSWER = 'Routers forward packets between networks. To reset one, hold the reset button for ten seconds, wait for the lights to settle, then sign in again.';

describe('rxguardrails server shutting down with streams in flight (a real process)', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  // The old server closed every connection on SIGTERM: each stream was cut mid-answer, with no error frame and no
  // [DONE] (20 of 20 in the measurement).
  it('should let the streams finish within the default grace, refuse new requests meanwhile, and exit 0', async () => {
    server = await startBin(['server', '--port', '0', '--config', PACED, '--default-config-id', 'short']);
    const streams = Array.from({ length: 5 }, () => openStream(server!.url, chatBody('How do I reset my router?', { stream: true })));
    await Promise.all(streams.map((stream) => stream.firstToken));
    let lastEnded = 0;
    const reads = Promise.all(streams.map((stream) => stream.result.then((read) => ((lastEnded = performance.now()), read))));

    server.child.kill('SIGTERM');
    // A request arriving during the drain: refused (the listener is closed) or answered 503. Until the signal is
    // handled, requests are still served (200), so this asks again until it sees the drain. A connection accepted
    // just before the listener closed whose request Node had not read yet counts as idle, and Node's close() resets
    // it (ECONNRESET, seen on a loaded machine): that request was not taken either.
    let refusal: { status?: number; error?: string } = {};
    let refusedAt = Number.POSITIVE_INFINITY;
    for (const deadline = performance.now() + 5_000; performance.now() < deadline; ) {
      refusal = await getOnce(`${server.url}/health`, 2_000);
      if (refusal.status !== 200) {
        refusedAt = performance.now();
        break;
      }
    }
    expect([{ error: 'ECONNREFUSED' }, { error: 'ECONNRESET' }, { status: 503 }]).toContainEqual(refusal);

    for (const read of await reads) {
      expect(read.broken).toBeUndefined();
      expect(read.text).toBe(SHORT_ANSWER);
      expect(read.done).toBe(true);
    }
    // The refusal came while the streams were still being answered.
    expect(refusedAt).toBeLessThan(lastEnded);
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toBe('');
  });

  // The old server had no --shutdown-grace-ms (it would not start: exit code 2), and cut the streams anyway.
  it('should end the streams still running when a 100 ms grace is over with a server_shutting_down frame, then [DONE], and exit 0', async () => {
    server = await startBin(['server', '--port', '0', '--config', PACED, '--default-config-id', 'long', '--shutdown-grace-ms', '100']);
    const streams = Array.from({ length: 3 }, () => openStream(server!.url, chatBody('Tell me about routers.', { stream: true })));
    await Promise.all(streams.map((stream) => stream.firstToken));

    server.child.kill('SIGTERM');
    for (const read of await Promise.all(streams.map((stream) => stream.result))) {
      expect(read.broken).toBeUndefined();
      expect(read.text.length).toBeGreaterThan(0);
      expect(read.text.split(' ').length).toBeLessThan(520);
      expect(read.frames.slice(-2)).toEqual([
        'data: {"error": {"message": "The server is shutting down; the answer was stopped after 100 ms.", "type": "server_error", "param": null, "code": "server_shutting_down"}}',
        'data: [DONE]',
      ]);
    }
    expect(await server.exited).toBe(0);
  });
});

describe('rxguardrails server with a config that cannot run here (a real process)', () => {
  // spec/fixtures/hostile-partial: keyless (the openai engine, started without OPENAI_API_KEY) and chat (scripted).
  // The old server refused to start at all ("engine openai needs an API key"), exit code 1, so chat was down too.
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startBin(['server', '--port', '0', '--config', 'spec/fixtures/hostile-partial', '--default-config-id', 'chat']);
  });
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
  });

  it('should start, and list the config as unavailable with a reason naming the missing variable', async () => {
    expect(await (await fetch(`${server.url}/v1/rails/configs`)).json()).toEqual([
      { id: 'chat' },
      { id: 'keyless', available: false, reason: expect.stringContaining('OPENAI_API_KEY') },
    ]);
    // Only the configs that can answer are models a client may pick.
    expect(await (await fetch(`${server.url}/v1/models`)).json()).toEqual({ object: 'list', data: [expect.objectContaining({ id: 'chat' })] });
  });

  it('should answer its requests with an OpenAI-shaped 503 naming the variable', async () => {
    const response = await postChat(server.url, chatBody('Hi', { stream: true, config_id: 'keyless' }));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining('OPENAI_API_KEY'), type: 'server_error', param: 'config_id', code: 'config_unavailable' },
    });
  });

  it('should serve the other config', async () => {
    const read = await openStream(server.url, chatBody('Hi', { stream: true })).result;
    expect(read.text).toBe('Hello there! How can I help you today?');
    expect(read.done).toBe(true);
  });
});
