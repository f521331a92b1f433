// `rxguardrails server` (the built bin, a real process) in front of a provider that misbehaves: the openai engine
// (spec/fixtures/hostile-upstream) pointed at the replay server (spec/support/replayServer.ts) through
// OPENAI_BASE_URL, as spec/cli/cli.spec.ts points it, with RXGUARDRAILS_UPSTREAM_TIMEOUT_MS=300. A provider that
// stalls before its headers, one that stalls mid-stream, one that rate-limits; and a body a web page may send to
// any origin, which must never reach the provider.
import { type ReplayServer, startReplayServer } from '../support/replayServer.js';
import { chatBody, openStream, postChat, type ServerProcess, startBin } from './hostileHarness.js';

const TIMEOUT_MS = 300;
/** How long a spec waits for an answer the server owes within TIMEOUT_MS; the old server took 302 s (907 s with retries). */
const ANSWER_DEADLINE_MS = 10_000;

describe('rxguardrails server in front of a misbehaving provider (a real process)', () => {
  let upstream: ReplayServer;
  let server: ServerProcess;
  beforeAll(async () => {
    upstream = await startReplayServer();
    server = await startBin(['server', '--port', '0', '--config', 'spec/fixtures/hostile-upstream'], {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.openAIBaseURL,
      RXGUARDRAILS_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterEach(() => upstream.clearPlans());
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await upstream?.close();
  });

  /** The provider requests made during `act`. */
  async function upstreamRequests<T>(act: () => Promise<T>): Promise<{ result: T; requests: ReplayServer['requests'] }> {
    const before = upstream.requests.length;
    const result = await act();
    return { result, requests: upstream.requests.slice(before) };
  }

  // The old server opened the stream (200, a role frame) at once and then waited for the provider, with no bound:
  // this got a 200, and its body would have come 302 s later.
  it('should answer a streaming request with a 504 (OpenAI-shaped JSON) when the provider sends nothing, and close the request to it', async () => {
    upstream.plan({ holdBeforeHeaders: true });
    const { result: response, requests } = await upstreamRequests(() => postChat(server.url, chatBody('Hi', { stream: true }), {}, AbortSignal.timeout(ANSWER_DEADLINE_MS)));
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining(`within ${TIMEOUT_MS} ms`), type: 'timeout', param: null, code: 'upstream_timeout' },
    });
    // One request to the provider (no retry), given up on: the server closed it.
    expect(requests).toHaveLength(1);
    await requests[0]!.closed;
    expect(requests[0]!.ended).toBe(false);
  });

  // The old server waited for the rest with no bound: the stream neither ended nor sent an error, and this spec's
  // deadline aborted it (broken, no [DONE]).
  it('should end a stream whose provider stalls mid-answer with a timeout error frame, then data: [DONE]', async () => {
    upstream.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 4 });
    const { result: read, requests } = await upstreamRequests(() => openStream(server.url, chatBody('Hi', { stream: true }), {}, ANSWER_DEADLINE_MS).result);
    expect(read.broken).toBeUndefined();
    expect(read.status).toBe(200);
    expect(read.text).toBe('Hello! How');
    expect(read.frames.slice(-2)).toEqual([expect.stringMatching(/^data: \{"error": /), 'data: [DONE]']);
    expect(JSON.parse(read.frames.at(-2)!.slice(6))).toEqual({
      error: { message: expect.stringContaining(`nothing for ${TIMEOUT_MS} ms`), type: 'timeout', param: null, code: 'upstream_timeout' },
    });
    await requests[0]!.closed;
    expect(requests[0]!.ended).toBe(false);
  });

  // The old server answered a 200 stream carrying a 502-style error frame, with no retry-after: a client could
  // neither see the rate limit nor back off as the provider asked.
  it("should answer a provider's 429 with a 429 and the provider's retry-after", async () => {
    upstream.plan({
      status: 429,
      body: { error: { message: 'Rate limit reached for gpt-4o-mini.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
      headers: { 'retry-after': '7' },
    });
    const { result: response, requests } = await upstreamRequests(() => postChat(server.url, chatBody('Hi', { stream: true }), {}, AbortSignal.timeout(ANSWER_DEADLINE_MS)));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'requests', code: 'rate_limit_exceeded', message: expect.stringContaining('Rate limit reached') }) });
    expect(requests).toHaveLength(1);
  });

  // What a web page may POST to any origin without a CORS preflight. The old server read such a body as JSON and
  // asked the model (here: a request to the provider, then a 200 stream), so any page a user visited could spend
  // the operator's tokens.
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'should answer a %s POST with a 415 and never ask the provider',
    async (type) => {
      const { result: response, requests } = await upstreamRequests(() => postChat(server.url, chatBody('Hi', { stream: true }), { 'content-type': type }));
      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error', code: 'unsupported_media_type' }) });
      expect(requests).toEqual([]);
    },
  );
});
