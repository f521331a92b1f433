// The guardrails server, served on 127.0.0.1 and called with the real openai client (and raw HTTP for the
// requests a client library would never send).
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import OpenAI, { APIError } from 'openai';
import { finalize, firstValueFrom, type Observable, take, toArray } from 'rxjs';
import { type ChatMessage, type ChatModel, ConfigError, scriptedModel, UsageTracker } from 'rxguardrails';
import { createApp } from 'rxguardrails/server';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { openAIAnswer } from '../support/transcripts.js';

const CONFIGS = 'spec/fixtures/server-configs';

interface Running {
  readonly app: Hono;
  readonly server: ServerType;
  readonly url: string;
  readonly client: OpenAI;
  close(): Promise<void>;
}

async function start(options: Partial<Parameters<typeof createApp>[0]> = {}): Promise<Running> {
  const app = await createApp({ configDir: CONFIGS, ...options });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    server,
    url,
    client: new OpenAI({ apiKey: options.apiKey ?? 'none', baseURL: `${url}/v1`, maxRetries: 0 }),
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ask = (content: string) => [{ role: 'user' as const, content }];

/**
 * A POST to /v1/chat/completions on a connection of its own, as raw HTTP: one piece goes with its content-length,
 * several as transfer-encoding: chunked (what Node sends for a body written in pieces without a content-length).
 */
function rawPost(server: ServerType, pieces: readonly string[]): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  const length = pieces.length === 1 ? { 'content-length': Buffer.byteLength(pieces[0]!) } : {};
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...length } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => (body += piece));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

describe('guardrails server (real openai client on 127.0.0.1)', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(() => running.close());

  it('should list its configs and answer /health', async () => {
    expect(await (await fetch(`${running.url}/v1/rails/configs`)).json()).toEqual([{ id: 'strict' }, { id: 'support' }]);
    expect(await (await fetch(`${running.url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await running.app.request('/health')).json()).toEqual({ status: 'ok' });
  });

  it('should answer a chat.completion with usage and the config used', async () => {
    const completion = await running.client.chat.completions.create({ model: 'gpt-demo', messages: ask('Hi'), config_id: 'support' } as never);
    expect(completion).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f-]{36}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-demo',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 8, total_tokens: 9 },
      guardrails: { config_id: 'support' },
    });
  });

  it('should stream chat.completion.chunk frames: role, tokens, finish, usage when asked', async () => {
    const stream = await running.client.chat.completions.create({
      model: 'gpt-demo',
      messages: ask('Hi'),
      stream: true,
      stream_options: { include_usage: true },
      guardrails: { config_id: 'support' },
    } as never);
    const chunks = [];
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe('Hello there! How can I help you today?');
    expect(chunks.at(-2)!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    expect(chunks.at(-1)).toEqual(expect.objectContaining({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 8, total_tokens: 9 } }));
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  });

  it('should end a blocked stream with the guardrails payload, which the client throws as an APIError', async () => {
    const stream = await running.client.chat.completions.create({ model: 'm', messages: ask('password?'), stream: true, config_id: 'strict' } as never);
    const received: string[] = [];
    let caught: unknown;
    try {
      for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) received.push(chunk.choices[0]?.delta?.content ?? '');
    } catch (error) {
      caught = error;
    }
    // stream_first is off in this config: only the items no later window re-checks were released.
    expect(received.join('')).toBe('Happy to help. ');
    expect(caught).toBeInstanceOf(APIError);
    expect((caught as APIError).error).toEqual({ message: 'Blocked by keyword check rails.', type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' });
  });

  it('should send the error frame as NeMo does, then [DONE]', async () => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: ask('password?'), stream: true, config_id: 'strict' }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const frames = (await response.text()).split('\n\n').filter(Boolean);
    expect(frames.slice(-2)).toEqual([
      'data: {"error": {"message": "Blocked by keyword check rails.", "type": "guardrails_violation", "param": "keyword check", "code": "content_blocked"}}',
      'data: [DONE]',
    ]);
  });

  it("should answer a blocked non-streaming request with NeMo's refusal and the violation", async () => {
    const completion = (await running.client.chat.completions.create({ model: 'm', messages: ask('password?'), config_id: 'strict' } as never)) as unknown as {
      choices: { message: { content: string } }[];
      guardrails: unknown;
    };
    expect(completion.choices[0]!.message.content).toBe("I'm sorry, I can't respond to that.");
    expect(completion.guardrails).toEqual({
      config_id: 'strict',
      violation: { message: 'Blocked by keyword check rails.', type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' },
    });
  });

  describe('bad requests', () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${running.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const expectError = async (response: Response, status: number, error: object) => {
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: expect.objectContaining(error) });
    };

    it('should reject malformed JSON', async () => {
      await expectError(await post('{"model": "m", "messages": ['), 400, { type: 'invalid_request_error', code: 'invalid_json' });
    });

    it.each([
      [{ messages: ask('x'), config_id: 'support' }, { message: 'you must provide a model parameter', param: 'model' }],
      [{ model: 'm', config_id: 'support' }, { message: "Invalid value for 'messages': expected array.", param: 'messages' }],
      [{ model: 'm', messages: 'hi', config_id: 'support' }, { param: 'messages' }],
      [{ model: 'm', messages: [], config_id: 'support' }, { message: "Invalid value for 'messages': messages must hold at least one message.", param: 'messages' }],
      [{ model: 'm', messages: [{ role: 'robot', content: 'x' }], config_id: 'support' }, { param: 'messages[0].role' }],
      [{ model: 'm', messages: ask('x'), stream: 'yes', config_id: 'support' }, { message: "Invalid value for 'stream': expected boolean.", param: 'stream' }],
      [{ model: 'm', messages: ask('x'), temperature: 7, config_id: 'support' }, { param: 'temperature' }],
      [{ model: 'm', messages: ask('x'), n: 2, config_id: 'support' }, { param: 'n' }],
    ])('should reject a request with missing or wrongly typed fields (%j)', async (body, error) => {
      await expectError(await post(JSON.stringify(body)), 400, { type: 'invalid_request_error', ...error });
    });

    it('should reject an unknown config, without touching the file system', async () => {
      await expectError(await post(JSON.stringify({ model: 'm', messages: ask('x'), config_id: '../strict' })), 404, {
        message: "The guardrails config '../strict' does not exist; this server has: strict, support.",
        param: 'config_id',
        code: 'config_not_found',
      });
      await expectError(await post(JSON.stringify({ model: 'm', messages: ask('x'), config_id: '_ignored' })), 404, { code: 'config_not_found' });
    });

    it("should say so, in NeMo's words, when no config is named and there is no default", async () => {
      await expectError(await post(JSON.stringify({ model: 'm', messages: ask('x') })), 422, {
        message: 'No guardrails config_id provided and server has no default configuration',
        param: 'config_id',
      });
    });

    it('should refuse a body over the limit', async () => {
      const small = await start({ bodyLimit: 1024 });
      try {
        const response = await fetch(`${small.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: ask('x'.repeat(5000)), config_id: 'support' }),
        });
        await expectError(response, 413, { code: 'request_too_large', message: 'The request body is larger than 1024 bytes.' });
      } finally {
        await small.close();
      }
    });

    it('should count a chunked body (no content-length) against the limit as it comes', async () => {
      const small = await start({ bodyLimit: 1024 });
      const postChunked = (pieces: string[]) => rawPost(small.server, pieces);
      try {
        const big = JSON.stringify({ model: 'm', messages: ask('x'.repeat(5000)), config_id: 'support' });
        const tooLarge = await postChunked([big.slice(0, 600), big.slice(600)]);
        expect(tooLarge.status).toBe(413);
        expect(JSON.parse(tooLarge.body)).toEqual({ error: expect.objectContaining({ code: 'request_too_large', message: 'The request body is larger than 1024 bytes.' }) });

        const fine = JSON.stringify({ model: 'm', messages: ask('Hi'), config_id: 'support' });
        const answered = await postChunked([fine.slice(0, 20), fine.slice(20)]);
        expect(answered.status).toBe(200);
        expect((JSON.parse(answered.body) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toContain('Hello');
      } finally {
        await small.close();
      }
    });

    it('should require the API key when it has one', async () => {
      const guarded = await start({ apiKey: 'sk-guardrails', defaultConfigId: 'support' });
      try {
        const body = JSON.stringify({ model: 'm', messages: ask('x') });
        const call = (authorization?: string) =>
          fetch(`${guarded.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
        await expectError(await call(), 401, { code: 'invalid_api_key' });
        await expectError(await call('Bearer sk-wrong'), 401, { code: 'invalid_api_key' });
        expect((await call('Bearer sk-guardrails')).status).toBe(200);
        expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
        expect((await guarded.client.chat.completions.create({ model: 'm', messages: ask('Hi') })).choices[0]!.message.content).toContain('Hello');
      } finally {
        await guarded.close();
      }
    });

    it('should answer an unknown path with a 404 in the same shape', async () => {
      await expectError(await fetch(`${running.url}/v1/embeddings`, { method: 'POST' }), 404, { code: 'not_found' });
    });
  });

  it('should refuse to start on a bad config, with the ConfigError', async () => {
    await expect(createApp({ configDir: 'spec/fixtures/configs/unknown-engine' })).rejects.toThrow(ConfigError);
    await expect(createApp({ configDir: 'spec/fixtures/configs/unknown-engine' })).rejects.toThrow('models[0].engine: unknown engine "cohere"');
    await expect(createApp({ configDir: 'spec/fixtures/sse' })).rejects.toThrow('spec/fixtures/sse: no config.yml here, nor in any sub-folder');
    await expect(createApp({ configDir: CONFIGS, defaultConfigId: 'nope' })).rejects.toThrow("createApp: no config 'nope' in spec/fixtures/server-configs (there are: strict, support)");
  });
});

describe('guardrails server: cancellation and load', () => {
  const replay = useReplayServer();

  it('should abort the upstream model request when its client disconnects', async () => {
    const running = await start({ configDir: 'examples/configs/streaming', clients: { openai: openAIClient(replay.server) } });
    try {
      replay.server.plan({ transcript: openAIAnswer('one two three four five six seven eight nine ten eleven twelve'), delayMs: 30 });
      const controller = new AbortController();
      const stream = await running.client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('count'), stream: true }, { signal: controller.signal });
      const tokens: string[] = [];
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta?.content;
        if (content) tokens.push(content);
        if (tokens.length === 2) controller.abort();
      }
      const upstream = replay.server.requests.at(-1)!;
      await upstream.closed;
      expect(tokens).toEqual(['one ', 'two ']);
      expect(upstream.ended).toBe(false);
    } finally {
      await running.close();
    }
  });

  describe('with output rails that do not stream (rails.output.streaming off)', () => {
    const answers = (messages: readonly ChatMessage[]) =>
      messages.at(-1)!.content.includes('secret') ? 'The admin password is hunter2, keep it to yourself.' : 'Hello there! How can I help you today?';

    it('should stream the whole checked answer as one chunk, or the violation', async () => {
      const running = await start({ configDir: 'spec/fixtures/whole-answer', models: { main: scriptedModel(answers, { delayMs: 1 }) } });
      try {
        const contents = async (question: string) => {
          const stream = await running.client.chat.completions.create({ model: 'm', messages: ask(question), stream: true });
          const received: string[] = [];
          for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) received.push(chunk.choices[0].delta.content);
          return received;
        };
        expect(await contents('Hi')).toEqual(['Hello there! How can I help you today?']);
        const blocked = await contents('the secret').catch((error: unknown) => error);
        expect(blocked).toBeInstanceOf(APIError);
        expect((blocked as APIError).error).toEqual(expect.objectContaining({ type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' }));
      } finally {
        await running.close();
      }
    });

    it('should stop the model when the client goes away before the answer is whole', async () => {
      const usage = new UsageTracker();
      const running = await start({ configDir: 'spec/fixtures/whole-answer', models: { main: scriptedModel(answers, { delayMs: 20 }) }, usage });
      try {
        const controller = new AbortController();
        const received: string[] = [];
        // The openai client ends the loop quietly when its signal aborts.
        const pending = running.client.chat.completions.create({ model: 'm', messages: ask('Hi'), stream: true }, { signal: controller.signal }).then(async (stream) => {
          for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
        });
        // The answer takes 8 words x 20 ms and nothing is sent before it is whole: go away after about 3 words.
        await new Promise((resolve) => setTimeout(resolve, 70));
        controller.abort();
        await pending;
        expect(received.join('')).toBe('');
        const [call] = await firstValueFrom(usage.calls$.pipe(take(1), toArray()));
        expect(call).toEqual(expect.objectContaining({ outcome: 'cancelled' }));
        expect(call!.completionTokens).toBeLessThan(8);
      } finally {
        await running.close();
      }
    });
  });

  it('should stream 200 concurrent clients their own complete answers, and hold nothing afterwards', async () => {
    let live = 0;
    const echo = scriptedModel((messages) => `Answer for ${messages.at(-1)!.content}: ${'word '.repeat(20)}done.`, { delayMs: 1 });
    const counted: ChatModel = {
      provider: 'scripted',
      model: 'echo',
      stream: (messages: readonly ChatMessage[], options) => {
        live++;
        return (echo.stream(messages, options) as Observable<string>).pipe(finalize(() => live--));
      },
    };
    const running = await start({ models: { main: counted }, defaultConfigId: 'support' });
    try {
      const one = async (index: number) => (await rawPost(running.server, [JSON.stringify({ model: 'm', messages: ask(`question ${index}`), stream: true })])).body;
      const raws = await Promise.all(Array.from({ length: 200 }, (_, index) => one(index)));
      raws.forEach((raw, index) => {
        const frames = raw.split('\n\n').filter(Boolean);
        expect(frames.at(-1)).toBe('data: [DONE]');
        const text = frames
          .slice(0, -1)
          .map((frame) => JSON.parse(frame.slice(6)) as OpenAI.Chat.ChatCompletionChunk)
          .map((chunk) => chunk.choices[0]?.delta?.content ?? '')
          .join('');
        expect(text).toBe(`Answer for question ${index}: ${'word '.repeat(20)}done.`);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(live).toBe(0);
      const sockets = await new Promise<number>((resolve, reject) => running.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      expect(sockets).toBe(0);
    } finally {
      await running.close();
    }
  }, 30_000);
});
