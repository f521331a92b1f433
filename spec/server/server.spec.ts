// The guardrails server, served on 127.0.0.1 and called with the real openai client (and raw HTTP for the
// requests a client library would never send): the wire format, bad requests, cancellation and load.
import { APIError } from 'openai';
import type OpenAI from 'openai';
import { defer, finalize, firstValueFrom, type Observable, take, toArray, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { type ChatMessage, type ChatModel, scriptedModel, UsageTracker } from 'rxguardrails';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { deferred } from '../support/deferred.js';
import { stallAfter } from '../support/stallAfter.js';
import { openAIAnswer } from '../support/transcripts.js';
import { ask, framesOf, rawPost, type Running, start } from './serverHarness.js';

describe('guardrails server (real openai client on 127.0.0.1)', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(() => running.close());

  it('should list its configs', async () => {
    expect(await (await fetch(`${running.url}/v1/rails/configs`)).json()).toEqual([{ id: 'strict' }, { id: 'support' }]);
  });

  it('should answer /health, over HTTP and through app.request()', async () => {
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
    const frames = framesOf(await response.text());
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

  describe('input rails', () => {
    let inputRailed: Running;
    beforeAll(async () => {
      inputRailed = await start({ configDir: 'spec/fixtures/server-input-rails' });
    });
    afterAll(() => inputRailed.close());
    const create = (configId: string, stream = false) =>
      inputRailed.client.chat.completions.create({ model: 'm', messages: ask('Hi'), config_id: configId, ...(stream ? { stream } : {}) } as never);

    it("should answer an input-rail block with NeMo's refusal and the violation, as an output-rail block", async () => {
      const completion = (await create('blocking')) as unknown as { choices: { message: { content: string } }[]; guardrails: unknown };
      expect(completion.choices[0]!.message.content).toBe("I'm sorry, I can't respond to that.");
      expect(completion.guardrails).toEqual({
        config_id: 'blocking',
        violation: { message: 'Blocked by self check input rails.', type: 'guardrails_violation', param: 'self check input', code: 'content_blocked' },
      });
    });

    it("should answer an input rail's failure with NeMo's internal-error message and the failure", async () => {
      const completion = (await create('failing')) as unknown as { choices: { message: { content: string } }[]; guardrails: unknown };
      expect(completion.choices[0]!.message.content).toBe("I'm sorry, an internal error has occurred.");
      expect(completion.guardrails).toEqual({
        config_id: 'failing',
        violation: { message: 'Internal error in flaky check rail: the moderation service is down', type: 'internal_error', param: 'flaky check', code: 'rail_execution_failure' },
      });
    });

    it("should stream it as the violation frame when asked (guardrails.input_violation: 'error', rxguardrails' key)", async () => {
      const stream = (await inputRailed.client.chat.completions.create({
        model: 'm',
        messages: ask('Hi'),
        stream: true,
        guardrails: { config_id: 'blocking', input_violation: 'error' },
      } as never)) as unknown as AsyncIterable<unknown>;
      const caught = await (async () => {
        for await (const _chunk of stream);
      })().catch((error: unknown) => error);
      expect((caught as APIError).error).toEqual({ message: 'Blocked by self check input rails.', type: 'guardrails_violation', param: 'self check input', code: 'content_blocked' });
    });

    it('should refuse an input_violation it does not know, in a 400', async () => {
      const caught = await inputRailed.client.chat.completions
        .create({ model: 'm', messages: ask('Hi'), guardrails: { config_id: 'blocking', input_violation: 'ignore' } } as never)
        .catch((error: unknown) => error);
      expect((caught as APIError).status).toBe(400);
      expect((caught as APIError).message).toContain("input_violation must be 'refuse' or 'error'");
    });

    it('should stream the refusal as text, as NeMo streams it', async () => {
      const stream = (await create('blocking', true)) as unknown as AsyncIterable<{ choices: { delta: { content?: string } }[] }>;
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe("I'm sorry, I can't respond to that.");
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
    });

    it('should not serve a skipped folder (its name starts with _) as a config', async () => {
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

    describe('chunked (no content-length)', () => {
      let small: Running;
      beforeAll(async () => {
        small = await start({ bodyLimit: 1024 });
      });
      afterAll(() => small.close());

      it('should count a chunked body against the limit as it comes', async () => {
        const big = JSON.stringify({ model: 'm', messages: ask('x'.repeat(5000)), config_id: 'support' });
        const tooLarge = await rawPost(small.server, [big.slice(0, 600), big.slice(600)]);
        expect(tooLarge.status).toBe(413);
        expect(JSON.parse(tooLarge.body)).toEqual({ error: expect.objectContaining({ code: 'request_too_large', message: 'The request body is larger than 1024 bytes.' }) });
      });

      it('should answer a chunked body under the limit', async () => {
        const fine = JSON.stringify({ model: 'm', messages: ask('Hi'), config_id: 'support' });
        const answered = await rawPost(small.server, [fine.slice(0, 20), fine.slice(20)]);
        expect(answered.status).toBe(200);
        expect((JSON.parse(answered.body) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toContain('Hello');
      });
    });

    describe('with an API key', () => {
      let guarded: Running;
      beforeAll(async () => {
        guarded = await start({ apiKey: 'sk-guardrails', defaultConfigId: 'support' });
      });
      afterAll(() => guarded.close());
      const call = (authorization?: string) =>
        fetch(`${guarded.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ model: 'm', messages: ask('x') }),
        });

      it('should refuse a /v1 request without it', async () => {
        await expectError(await call(), 401, { code: 'invalid_api_key' });
      });

      it('should refuse a /v1 request with a wrong one', async () => {
        await expectError(await call('Bearer sk-wrong'), 401, { code: 'invalid_api_key' });
      });

      it('should answer a request that carries it, raw and through the openai client', async () => {
        expect((await call('Bearer sk-guardrails')).status).toBe(200);
        expect((await guarded.client.chat.completions.create({ model: 'm', messages: ask('Hi') })).choices[0]!.message.content).toContain('Hello');
      });

      it('should leave /health open', async () => {
        expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
      });
    });

    it('should answer an unknown path with a 404 in the same shape', async () => {
      await expectError(await fetch(`${running.url}/v1/embeddings`, { method: 'POST' }), 404, { code: 'not_found' });
    });
  });
});

describe('guardrails server: cancellation and load', () => {
  const replay = useReplayServer();

  it('should abort the upstream model request when its client disconnects', async () => {
    const running = await start({ configDir: 'examples/configs/streaming', clients: { openai: openAIClient(replay.server) } });
    try {
      // The role block and two words, then the upstream holds the rest back: only a cancelled request ends before it.
      replay.server.plan(stallAfter(openAIAnswer('one two three four five six seven eight nine ten eleven twelve'), 3));
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

    describe('served whole', () => {
      let running: Running;
      beforeAll(async () => {
        running = await start({ configDir: 'spec/fixtures/whole-answer', models: { main: scriptedModel(answers, { delayMs: 1 }) } });
      });
      afterAll(() => running.close());
      const contents = async (question: string) => {
        const stream = await running.client.chat.completions.create({ model: 'm', messages: ask(question), stream: true });
        const received: string[] = [];
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) received.push(chunk.choices[0].delta.content);
        return received;
      };

      it('should stream the whole checked answer as one chunk', async () => {
        expect(await contents('Hi')).toEqual(['Hello there! How can I help you today?']);
      });

      it('should stream the violation when the whole answer is blocked', async () => {
        const blocked = await contents('the secret').catch((error: unknown) => error);
        expect(blocked).toBeInstanceOf(APIError);
        expect((blocked as APIError).error).toEqual(expect.objectContaining({ type: 'guardrails_violation', param: 'keyword check', code: 'content_blocked' }));
      });

      it('should send the usage of the whole answer when asked', async () => {
        const stream = await running.client.chat.completions.create({ model: 'm', messages: ask('Hi'), stream: true, stream_options: { include_usage: true } });
        const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);
        expect(chunks.filter((chunk) => chunk.choices[0]?.delta?.content).map((chunk) => chunk.choices[0]!.delta.content)).toEqual(['Hello there! How can I help you today?']);
        expect(chunks.at(-1)).toEqual(expect.objectContaining({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 8, total_tokens: 9 } }));
      });
    });

    it('should stop the model when the client goes away before the answer is whole', async () => {
      const usage = new UsageTracker();
      // The words come at 20, 40, 60, ... virtual ms, and only when the test flushes: up to 60, so 3 of the 8.
      const scheduler = new VirtualTimeScheduler(VirtualAction, 3 * 20);
      const scripted = scriptedModel(answers, { delayMs: 20, scheduler });
      const called = deferred<void>();
      const main: ChatModel = {
        ...scripted,
        stream: (messages, options) =>
          defer(() => {
            called.resolve();
            return scripted.stream(messages, options) as Observable<string>;
          }),
      };
      const running = await start({ configDir: 'spec/fixtures/whole-answer', models: { main }, usage });
      try {
        const controller = new AbortController();
        const received: string[] = [];
        const opened = running.client.chat.completions.create({ model: 'm', messages: ask('Hi'), stream: true }, { signal: controller.signal });
        // The openai client ends the loop quietly when its signal aborts.
        const pending = opened.then(async (stream) => {
          for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
        });
        // Nothing is sent before the answer is whole: once the response is open and the model has given 3 of its 8
        // words, go away.
        await opened;
        await called.promise;
        scheduler.flush();
        controller.abort();
        await pending;
        expect(received.join('')).toBe('');
        const [call] = await firstValueFrom(usage.calls$.pipe(take(1), toArray()));
        expect(call).toEqual(expect.objectContaining({ outcome: 'cancelled' }));
        expect(call!.completionTokens).toBeLessThan(8);
        expect(call!.completionTokens).toBe(3);
      } finally {
        await running.close();
      }
    });
  });

  it('should stream 200 concurrent clients their own complete answers, and hold nothing afterwards', async () => {
    const clients = 200;
    let live = 0;
    let started = 0;
    let ended = 0;
    const allEnded = deferred<void>();
    const echo = scriptedModel((messages) => `Answer for ${messages.at(-1)!.content}: ${'word '.repeat(20)}done.`, { delayMs: 1 });
    const counted: ChatModel = {
      provider: 'scripted',
      model: 'echo',
      stream: (messages: readonly ChatMessage[], options) => {
        live++;
        started++;
        return (echo.stream(messages, options) as Observable<string>).pipe(
          finalize(() => {
            live--;
            if (++ended === clients) allEnded.resolve();
          }),
        );
      },
    };
    const running = await start({ models: { main: counted }, defaultConfigId: 'support' });
    try {
      const one = async (index: number) => (await rawPost(running.server, [JSON.stringify({ model: 'm', messages: ask(`question ${index}`), stream: true })])).body;
      const raws = await Promise.all(Array.from({ length: clients }, (_, index) => one(index)));
      raws.forEach((raw, index) => {
        const frames = framesOf(raw);
        expect(frames.at(-1)).toBe('data: [DONE]');
        const text = frames
          .slice(0, -1)
          .map((frame) => JSON.parse(frame.slice(6)) as OpenAI.Chat.ChatCompletionChunk)
          .map((chunk) => chunk.choices[0]?.delta?.content ?? '')
          .join('');
        expect(text).toBe(`Answer for question ${index}: ${'word '.repeat(20)}done.`);
      });
      // Every model call has finished and every connection closed: what the server still holds after that is a leak.
      await allEnded.promise;
      await running.connectionsClosed();
      expect(started).toBe(clients);
      expect(live).toBe(0);
      const sockets = await new Promise<number>((resolve, reject) => running.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      expect(sockets).toBe(0);
    } finally {
      await running.close();
    }
  }, 30_000);
});
