// The engines' direct Chat Completions path (fetchOpenAIChat: fetch + eventsource-parser) against the SDK path
// (fromOpenAI on the real openai client), on the same replay server: every recorded OpenAI chat stream, cut at
// random byte offsets (fast-check), must give both the same tokens, the same usage record and the same error; so
// must HTTP errors, and the hostile upstreams: a frame split across writes, a huge frame, a malformed frame, a
// stall after the headers, a connection closed mid-frame, a refused connection. The direct path runs on both its
// HTTP clients: the platform's fetch (the default) and Node's own (the server's, nodeStreamingPost).
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import OpenAI from 'openai';
import { lastValueFrom, type Observable, take, tap, toArray } from 'rxjs';
import { DemandGate, fromOpenAI, type LlmCallInfo, ProviderError } from 'rxguardrails';
import { nodeStreamingPost } from '../../lib/node/nodeStreamingPost.js';
import { fetchOpenAIChat } from '../../lib/sources/fetchOpenAIChat.js';
import type { StreamingPost } from '../../lib/sources/streamingPost.js';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { collect } from '../support/collect.js';
import { blocksOf, chatChunk, fixture, FIXTURES, numberedWords, type ReplayPlan, sse } from '../support/replayServer.js';

const CHAT_FIXTURES = readdirSync(FIXTURES).filter((name) => name.startsWith('openai-chat-') && name.endsWith('.sse'));
const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };

/** What a caller can see of one run: the tokens, how it ended, the error's shape, the usage record but its times and id. */
interface Seen {
  tokens: string[];
  completed: boolean;
  error?: Record<string, unknown>;
  calls: Record<string, unknown>[];
}

async function run(source: (usage: { next(call: LlmCallInfo): void }) => Observable<string>): Promise<Seen> {
  const calls: LlmCallInfo[] = [];
  const outcome = await collect(source({ next: (call) => calls.push(call) }));
  const error = outcome.error as ProviderError | undefined;
  return {
    tokens: outcome.items,
    completed: outcome.completed,
    ...(error === undefined
      ? {}
      : {
          error: {
            name: error.name,
            message: error.message,
            isProviderError: ProviderError.isInstance(error),
            provider: error.provider,
            status: error.status,
            type: error.type,
            code: error.code,
            during: error.during,
            retryable: error.retryable,
            retryAfter: error.retryAfter,
          },
        }),
    calls: calls.map(({ id: _id, durationMs: _duration, startedAt: _started, finishedAt: _finished, ...call }) => call),
  };
}

const clients: [string, StreamingPost | undefined][] = [
  ['the platform fetch', undefined],
  ["Node's http client (the server's)", nodeStreamingPost()],
];

describe.each(clients)("fetchOpenAIChat (the engines' direct path) on %s, and fromOpenAI (the SDK path)", (_client, post) => {
  const replay = useReplayServer();
  const endpoint = (baseURL: string) => ({ baseURL, apiKey: 'sk-test', ...(post ? { post } : {}) });
  afterEach(() => replay.server.clearPlans());

  /** The same plan through the SDK path, then through the direct path. */
  async function both(plan: ReplayPlan, timeout?: { firstTokenMs?: number; idleMs?: number }): Promise<{ sdk: Seen; direct: Seen }> {
    const { server } = replay;
    const options = (usage: { next(call: LlmCallInfo): void }) => ({ usage, ...(timeout ? { timeout } : {}) });
    server.plan(plan);
    const sdk = await run((usage) => fromOpenAI(openAIClient(server), params, options(usage)));
    server.plan(plan);
    const direct = await run((usage) => fetchOpenAIChat(endpoint(server.openAIBaseURL), params, options(usage)));
    return { sdk, direct };
  }

  it.each(CHAT_FIXTURES)('should give what the SDK gives for %s, cut at any bytes', async (name) => {
    const bytes = fixture(name);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), async (offsets) => {
        const { sdk, direct } = await both({ transcript: bytes, splitAt: [...offsets].sort((a, b) => a - b) });
        expect(direct).toEqual(sdk);
      }),
      { numRuns: 8 },
    );
  });

  it('should send what the SDK sends: the same body, with stream and include_usage, and Bearer auth', async () => {
    const { server } = replay;
    await both({ transcript: 'openai-chat-basic.sse' });
    const [sdkRequest, directRequest] = server.requests.slice(-2);
    expect(directRequest!.path).toBe(sdkRequest!.path);
    expect(directRequest!.body).toEqual(sdkRequest!.body);
    expect(directRequest!.body).toEqual(expect.objectContaining({ stream: true, stream_options: { include_usage: true } }));
    for (const header of ['authorization', 'content-type', 'accept', 'x-stainless-retry-count']) {
      expect(directRequest!.headers[header]).toBe(sdkRequest!.headers[header]);
    }
  });

  it.each([
    [401, { error: { message: 'Incorrect API key provided: sk-test.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }, {}],
    [403, { error: { message: 'Project does not have access to model', type: 'invalid_request_error', code: 'model_not_found' } }, {}],
    [404, { error: { message: 'The model `gpt-5` does not exist', type: 'invalid_request_error', code: 'model_not_found' } }, {}],
    [429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }],
    [429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }, { 'retry-after-ms': '250' }],
    [500, { error: { message: 'The server had an error', type: 'server_error' } }, {}],
    [503, { detail: 'not the OpenAI error form' }, {}],
    [502, 'Bad gateway (not JSON)', {}],
  ])('should give the same ProviderError as the SDK for HTTP %i', async (status, body, headers) => {
    const { sdk, direct } = await both({ status, body, headers });
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ isProviderError: true, status, during: 'request' }));
  });

  it('should give the same answer for a frame cut into single bytes, one write each', async () => {
    const bytes = fixture('openai-chat-basic.sse');
    const { sdk, direct } = await both({ transcript: bytes, splitAt: Array.from({ length: 400 }, (_, index) => index + 1) });
    expect(direct).toEqual(sdk);
    expect(direct.tokens.join('')).toBe('Hello! How can I assist you today?');
  });

  it('should give the same answer for a huge frame (2 MB of content)', async () => {
    const content = 'x'.repeat(2 * 2 ** 20);
    const frame = (delta: object) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    const transcript = Buffer.from(frame({ role: 'assistant', content: '' }) + frame({ content }) + frame({ content: '!' }) + 'data: [DONE]\n\n');
    const { sdk, direct } = await both({ transcript });
    expect(direct).toEqual(sdk);
    expect(direct.tokens.map((token) => token.length)).toEqual([content.length, 1]);
  });

  it('should give the same answer for characters of 2, 3 and 4 bytes cut between writes at every byte', async () => {
    const transcript = sse(['héllo ', 'wörld ', '€uro ', '😀 ', '日本語'].map(chatChunk), { done: true });
    const { sdk, direct } = await both({ transcript, splitAt: Array.from({ length: transcript.length - 1 }, (_, index) => index + 1) });
    expect(direct).toEqual(sdk);
    expect(direct.tokens.join('')).toBe('héllo wörld €uro 😀 日本語');
  });

  it("should hand on nothing while its consumer's demand is paused, the rest of a read kept for the resume", async () => {
    const answer = numberedWords(20);
    const transcript = sse(answer.map(chatChunk), { done: true });
    replay.server.plan({ transcript, splitAt: [transcript.length] });
    const demand = new DemandGate();
    const tokens: string[] = [];
    const answered = lastValueFrom(
      fetchOpenAIChat(endpoint(replay.server.openAIBaseURL), params, { demand }).pipe(
        tap((token) => {
          tokens.push(token);
          if (tokens.length === 3) demand.pause();
        }),
        toArray(),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tokens).toEqual(answer.slice(0, 3));
    demand.resume();
    expect(await answered).toEqual(answer);
  });

  it('should stop within a read when unsubscribed there, closing the request and recording the call as cancelled', async () => {
    const answer = numberedWords(20);
    // Every event, then the response held open: only the unsubscription can end it.
    replay.server.plan({ transcript: sse(answer.map(chatChunk)), holdAfterBlocks: answer.length });
    const calls: LlmCallInfo[] = [];
    const tokens = await lastValueFrom(fetchOpenAIChat(endpoint(replay.server.openAIBaseURL), params, { usage: { next: (call) => calls.push(call) } }).pipe(take(2), toArray()));
    expect(tokens).toEqual(answer.slice(0, 2));
    const request = replay.server.requests.at(-1)!;
    await request.closed;
    expect(request.ended).toBe(false);
    expect(calls).toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
  });

  it('should fail as the SDK does on a frame that is not JSON, keeping the tokens before it', async () => {
    const basic = fixture('openai-chat-basic.sse').toString('utf8').split('\n\n');
    const transcript = Buffer.from([...basic.slice(0, 3), 'data: {"id":"c","choices":[{"index":0,"delta":{"content":"oops"', ...basic.slice(3)].join('\n\n'));
    // (The SDK also logs the frame with console.error; the direct path does not.)
    const { sdk, direct } = await both({ transcript });
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ isProviderError: true, during: 'stream' }));
  });

  it('should fail as the SDK does on an error frame mid-stream', async () => {
    const { sdk, direct } = await both({ transcript: 'openai-chat-error.sse' });
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ type: 'server_error', during: 'stream', retryable: true }));
  });

  it('should end a stream that stalls after the headers at the idle bound, as the SDK path does, closing the request', async () => {
    const { sdk, direct } = await both({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 0 }, { firstTokenMs: 150 });
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ type: 'timeout', code: 'upstream_timeout', during: 'request' }));
    const request = replay.server.requests.at(-1)!;
    await request.closed;
    expect(request.ended).toBe(false);
  });

  it('should end a stream that stalls mid-way at the idle bound, as the SDK path does', async () => {
    const { sdk, direct } = await both({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 4 }, { idleMs: 150 });
    expect(direct).toEqual(sdk);
    expect(direct.tokens.join('')).toBe('Hello! How');
    expect(direct.error).toEqual(expect.objectContaining({ type: 'timeout', during: 'stream' }));
  });

  it('should fail as the SDK does when the upstream closes mid-frame', async () => {
    const bytes = fixture('openai-chat-basic.sse');
    const firstBlocks = bytes.indexOf('\n\n', bytes.indexOf('\n\n', bytes.indexOf('\n\n') + 2) + 2) + 2;
    // The third block's first half is written, then the socket is destroyed.
    const { sdk, direct } = await both({ transcript: bytes, splitAt: [firstBlocks, firstBlocks + 40], dropAfterBlocks: 2 });
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ type: 'connection_error', during: 'stream' }));
  });

  it.each([
    ['after [DONE]', 0, true],
    ['after the usage chunk, before [DONE]', 1, true],
    ['after the finish chunk, before the usage chunk', 2, true],
    ['before the finish chunk', 3, false],
  ])('should end as the SDK does when the upstream closes %s', async (_, blocksShort, completed) => {
    // The transcript's last blocks: the finish chunk, the usage chunk, [DONE]; the socket is destroyed after the
    // blocks written, before the chunked body's end. Once the finish chunk was read the answer is whole.
    const transcript = fixture('openai-chat-usage-legacy.sse');
    const { sdk, direct } = await both({ transcript, dropAfterBlocks: blocksOf(transcript).length - blocksShort });
    expect(direct).toEqual(sdk);
    expect(direct.completed).toBe(completed);
    expect(direct.tokens.join('')).toBe('{"city":"San Francisco","units":"c"}');
    expect(direct.calls).toEqual([expect.objectContaining({ outcome: completed ? 'completed' : 'error', estimated: blocksShort >= 2 })]);
  });

  it('should fail as the SDK does when nothing listens', async () => {
    const baseURL = 'http://127.0.0.1:9/v1';
    const sdk = await run((usage) => fromOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 }), params, { usage }));
    const direct = await run((usage) => fetchOpenAIChat(endpoint(baseURL), params, { usage }));
    expect(direct).toEqual(sdk);
    expect(direct.error).toEqual(expect.objectContaining({ type: 'connection_error', during: 'request', message: 'openai: connection_error: Connection error.' }));
  });

  it('should abort the upstream request when unsubscribed, recording the call with estimated usage', async () => {
    const { server } = replay;
    server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 3 });
    const calls: LlmCallInfo[] = [];
    const subscription = fetchOpenAIChat(endpoint(server.openAIBaseURL), params, { usage: { next: (call) => calls.push(call) } }).subscribe();
    while (server.requests.at(-1)?.blocksSent !== 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    subscription.unsubscribe();
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.ended).toBe(false);
    expect(calls).toEqual([expect.objectContaining({ outcome: 'cancelled', estimated: true })]);
  });

  it('should complete at [DONE], reading the rest of the body after it (the SDK waits for the body to end)', async () => {
    const { server } = replay;
    const blocks = fixture('openai-chat-basic.sse').toString('utf8').split('\n\n').filter(Boolean).length;
    // Every block, [DONE] included, then the response is held open.
    server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: blocks });
    const seen = await run((usage) => fetchOpenAIChat(endpoint(server.openAIBaseURL), params, { usage }));
    expect(seen.completed).toBe(true);
    expect(seen.tokens.join('')).toBe('Hello! How can I assist you today?');
    expect(seen.calls).toEqual([expect.objectContaining({ outcome: 'completed' })]);
    expect(server.requests.at(-1)!.ended).toBe(false);
  });

  it('should retry a retryable status maxRetries times, as the SDK does, then stream', async () => {
    const { server } = replay;
    const before = server.requests.length;
    server.plan({ status: 500, body: { error: { message: 'boom', type: 'server_error' } }, headers: { 'retry-after-ms': '10' } }, 'openai-chat-basic.sse');
    const seen = await run((usage) => fetchOpenAIChat({ ...endpoint(server.openAIBaseURL), maxRetries: 1 }, params, { usage }));
    expect(seen.tokens.join('')).toBe('Hello! How can I assist you today?');
    expect(server.requests.slice(before).map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });
});

describe("fetchOpenAIChat on Node's http client (the server's)", () => {
  it('should stop within the read that also ends the answer without an uncaught error (a rail that blocks on a token)', async () => {
    // The whole answer in one write on a keep-alive connection, and the consumer unsubscribes while it is read. When
    // the abort came from within the read that completes the response (a push-style read, tried and not kept), Node's
    // client emitted the abort's error on a socket whose error listener it had taken off: the server process crashed.
    const answer = numberedWords(20);
    const transcript = sse(answer.map(chatChunk), { done: true });
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(transcript);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const endpoint = { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-test', post: nodeStreamingPost() };
    try {
      for (let call = 0; call < 3; call++) {
        expect(await lastValueFrom(fetchOpenAIChat(endpoint, params).pipe(take(2), toArray()))).toEqual(answer.slice(0, 2));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('should reuse one keep-alive connection for calls one after another, each body read to its end after [DONE]', async () => {
    const transcript = fixture('openai-chat-basic.sse');
    let connections = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(transcript);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-test', post: nodeStreamingPost() };
    try {
      for (let call = 0; call < 3; call++) {
        const seen = await run((usage) => fetchOpenAIChat(endpoint, params, { usage }));
        expect(seen.tokens.join('')).toBe('Hello! How can I assist you today?');
        // The call completes at [DONE]; the body's end (read after it, for the connection to be reused) comes with
        // the next socket read.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
