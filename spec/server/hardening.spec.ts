// The server against careless and hostile clients, in-process (app.request(): no port): clients that stop reading,
// requests a web page could send, over-long echoed strings, CORS, the config header and the models list, and a
// graceful drain. spec/server/hostile*.spec.ts drives the same defects through the real `rxguardrails server`.
import { Subject } from 'rxjs';
import { type ChatModel, scriptedModel, UsageTracker } from 'rxguardrails';
import { createApp, drain } from 'rxguardrails/server';
import { settle } from '../support/deferred.js';
import { ask, CONFIGS, framesOf } from './serverHarness.js';

const json = { 'content-type': 'application/json' };
const post = (app: Awaited<ReturnType<typeof createApp>>, body: object, headers: Record<string, string> = json) =>
  app.request('/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(body) });

/** A model whose words the test pushes; `observed` says whether anyone still listens (the answer was not stopped). */
function pushedModel(): { model: ChatModel; words: Subject<string> } {
  const words = new Subject<string>();
  return { words, model: { provider: 'test', model: 'pushed', stream: () => words.asObservable() } };
}

/** Resolves once `condition` holds, checking after each turn of the event loop; fails after `deadlineMs`. */
async function until(condition: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the server against careless and hostile clients', () => {
  describe('a client that stops reading a stream', () => {
    it('should stop the answer, and so the model, once the unread frames pass maxBufferedBytes', async () => {
      const { model, words } = pushedModel();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: model }, maxBufferedBytes: 4_096 });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      expect(response.status).toBe(200);
      // Nobody reads response.body. Each word is a frame of ~150 bytes: 4 KiB unread is about 30 of them.
      let pushed = 0;
      while (words.observed && pushed < 10_000) {
        words.next('word ');
        pushed++;
        await settle();
      }
      expect(words.observed).toBe(false);
      expect(pushed).toBeLessThan(200);
    });

    it('should stop the answer once frames stay unread for stallTimeoutMs, even under maxBufferedBytes', async () => {
      const { model, words } = pushedModel();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: model }, stallTimeoutMs: 50 });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      expect(response.status).toBe(200);
      // Enough unread to be behind (the stream's queue holds 64 KiB), far below the 1 MiB bound.
      for (let word = 0; word < 600 && words.observed; word++) words.next('word ');
      await settle();
      expect(words.observed).toBe(true);
      await until(() => !words.observed, 'the stalled answer to be stopped');
    });

    it('should not stop an answer whose client reads, however long it is', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: scriptedModel(['word '.repeat(20_000)]) }, maxBufferedBytes: 4_096 });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      const frames = framesOf(await response.text());
      expect(frames.at(-1)).toBe('data: [DONE]');
      expect(frames.filter((frame) => frame.includes('"content":"word "'))).toHaveLength(20_000);
    });
  });

  describe('requests a web page could send without asking', () => {
    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('should refuse a %s body with a 415, calling no model', async (type) => {
      const usage = new UsageTracker();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', usage });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { 'content-type': type });
      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error', code: 'unsupported_media_type' }) });
      expect(usage.snapshot().totals.calls).toBe(0);
    });

    it('should refuse a body with no content type', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support' });
      const response = await app.request('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', messages: ask('Hi') }) });
      expect(response.status).toBe(415);
    });

    it('should take application/json with a charset', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support' });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { 'content-type': 'Application/JSON; charset=utf-8' });
      expect(response.status).toBe(200);
    });
  });

  describe('echoed strings', () => {
    it('should refuse a model id over 256 characters with a 400 naming it, before any model is called', async () => {
      const usage = new UsageTracker();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', usage });
      const response = await post(app, { model: 'm'.repeat(900_000), messages: ask('Hi'), stream: true });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ param: 'model', message: "Invalid value for 'model': at most 256 characters." }) });
      expect(usage.snapshot().totals.calls).toBe(0);
    });

    it('should refuse a config_id over 256 characters with a 400', async () => {
      const app = await createApp({ configDir: CONFIGS });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'c'.repeat(10_000) });
      expect(response.status).toBe(400);
    });
  });

  describe('the API key', () => {
    it.each(['Bearer', 'bearer', 'BEARER'])('should take the %s scheme', async (scheme) => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', apiKey: 'sk-guardrails' });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { ...json, authorization: `${scheme} sk-guardrails` });
      expect(response.status).toBe(200);
    });

    it('should refuse another scheme with the right key', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', apiKey: 'sk-guardrails' });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { ...json, authorization: 'Basic sk-guardrails' });
      expect(response.status).toBe(401);
    });
  });

  describe('choosing a config', () => {
    it('should list the configs that can answer as models, in OpenAI\'s list shape', async () => {
      const app = await createApp({ configDir: CONFIGS });
      expect(await (await app.request('/v1/models')).json()).toEqual({
        object: 'list',
        data: [
          { id: 'strict', object: 'model', created: 0, owned_by: 'rxguardrails' },
          { id: 'support', object: 'model', created: 0, owned_by: 'rxguardrails' },
        ],
      });
    });

    it('should take the config from the X-Guardrails-Config-Id header when the body names none', async () => {
      const app = await createApp({ configDir: CONFIGS });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { ...json, 'x-guardrails-config-id': 'support' });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(expect.objectContaining({ guardrails: { config_id: 'support' } }));
    });

    it('should prefer config_id in the body to the header', async () => {
      const app = await createApp({ configDir: CONFIGS });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'strict' }, { ...json, 'x-guardrails-config-id': 'support' });
      // strict's answer leaks a password, so it is refused; what matters is which config answered.
      expect(await response.json()).toEqual(expect.objectContaining({ guardrails: expect.objectContaining({ config_id: 'strict' }) }));
    });
  });

  describe('a config that cannot run on this machine', () => {
    const PARTIAL = 'spec/fixtures/server-partial';
    beforeAll(() => {
      delete process.env.PARTIAL_TEST_OPENAI_KEY;
    });

    it('should not keep the other configs from being served', async () => {
      const app = await createApp({ configDir: PARTIAL });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'working' });
      expect(response.status).toBe(200);
    });

    it('should answer its requests with a 503 naming the missing variable', async () => {
      const app = await createApp({ configDir: PARTIAL });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'needs-key', stream: true });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: expect.objectContaining({ code: 'config_unavailable', message: expect.stringContaining('set the environment variable PARTIAL_TEST_OPENAI_KEY') }),
      });
    });

    it('should list it as unavailable, with the reason, and leave it out of the models', async () => {
      const app = await createApp({ configDir: PARTIAL });
      expect(await (await app.request('/v1/rails/configs')).json()).toEqual([
        { id: 'needs-key', available: false, reason: expect.stringContaining('PARTIAL_TEST_OPENAI_KEY') },
        { id: 'working' },
      ]);
      expect(((await (await app.request('/v1/models')).json()) as { data: { id: string }[] }).data.map((model) => model.id)).toEqual(['working']);
    });

    it('should still refuse to start on a config with a schema error', async () => {
      await expect(createApp({ configDir: 'spec/fixtures/configs/unknown-engine' })).rejects.toThrow('unknown engine "cohere"');
    });
  });

  describe('CORS', () => {
    const origin = 'http://app.example';

    it('should answer a preflight from an allowed origin', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', corsOrigins: [origin] });
      const response = await app.request('/v1/chat/completions', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
      expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    });

    it('should let a streamed answer carry the allow-origin header', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', corsOrigins: [origin] });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true }, { ...json, origin });
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(framesOf(await response.text()).at(-1)).toBe('data: [DONE]');
    });

    it("should expose retry-after to the app's script (a 429's back-off), and no other header beyond the safelisted ones", async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', corsOrigins: [origin] });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true }, { ...json, origin });
      expect(response.headers.get('access-control-expose-headers')).toBe('retry-after');
      await response.text();
    });

    it('should give another origin no allow-origin header', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', corsOrigins: [origin] });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { ...json, origin: 'http://evil.example' });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('should send no CORS headers when none are configured', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support' });
      const response = await post(app, { model: 'm', messages: ask('Hi') }, { ...json, origin });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('should refuse an origin that is not one', async () => {
      await expect(createApp({ configDir: CONFIGS, corsOrigins: ['app.example/'] })).rejects.toThrow("createApp: corsOrigins must be a list of origins like https://app.example (or '*')");
    });
  });

  describe('drain', () => {
    it('should let a stream in flight finish within the grace period', async () => {
      const { model, words } = pushedModel();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: model } });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      words.next('Hello ');
      const drained = drain(app, { graceMs: 10_000 });
      words.next('there.');
      words.complete();
      await drained;
      const frames = framesOf(await response.text());
      expect(frames.at(-1)).toBe('data: [DONE]');
      expect(frames.join('')).toContain('"content":"there."');
    });

    it('should end a stream still running after the grace period with a shutdown frame and [DONE], and stop its model', async () => {
      const { model, words } = pushedModel();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: model } });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      words.next('Hello ');
      await drain(app, { graceMs: 20 });
      expect(words.observed).toBe(false);
      const frames = framesOf(await response.text());
      expect(frames.slice(-2)).toEqual([
        'data: {"error": {"message": "The server is shutting down; the answer was stopped after 20 ms.", "type": "server_error", "param": null, "code": "server_shutting_down"}}',
        'data: [DONE]',
      ]);
    });

    it('should answer a whole answer still running after the grace period with a 503', async () => {
      const { model, words } = pushedModel();
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: model } });
      const pending = post(app, { model: 'm', messages: ask('Hi') });
      await until(() => words.observed, 'the model to be called');
      await drain(app, { graceMs: 20 });
      const response = await pending;
      expect(response.status).toBe(503);
      // The shutdown began after the request did: the answer still closes its connection.
      expect(response.headers.get('connection')).toBe('close');
      expect(await response.json()).toEqual({ error: expect.objectContaining({ code: 'server_shutting_down' }) });
    });

    it('should refuse new requests once draining, closing their connections', async () => {
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support' });
      await drain(app, { graceMs: 0 });
      const response = await post(app, { model: 'm', messages: ask('Hi') });
      expect(response.status).toBe(503);
      expect(response.headers.get('connection')).toBe('close');
      expect((await app.request('/health')).status).toBe(503);
    });

    it('should refuse an app it did not make', async () => {
      const { Hono } = await import('hono');
      await expect(drain(new Hono())).rejects.toThrow('drain: app must be an app made by createApp');
    });
  });
});
