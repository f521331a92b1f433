// `rxguardrails server` (the built bin, a real process) against requests a careless or hostile client sends on the
// wire: an over-long echoed string, `Connection: close` on a stream, a browser app on another origin (CORS), the
// Bearer scheme in lower case, the API key kept out of the process list, and an OpenAI client that lists the models
// and picks its config with a header. Each case failed on the server before issue 9 (the comments say how).
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { chatBody, openStream, postChat, rawChatRequest, rawExchange, type ServerProcess, startBin } from './hostileHarness.js';

/** Two scripted configs with different answers; chat is the default. */
const WIRE = 'spec/fixtures/hostile-wire';
const CHAT_ANSWER = 'Hello there! How can I help you today?';
const GREETER_ANSWER = 'Good morning! Lovely to see you again.';
const APP = 'http://app.example';

const serverOn = (args: readonly string[] = [], env: Record<string, string> = {}) => startBin(['server', '--port', '0', '--config', WIRE, '--default-config-id', 'chat', ...args], env);

describe('rxguardrails server and what clients send on the wire (a real process)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await serverOn();
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  describe('over-long echoed strings', () => {
    // The old server took any length and repeated `model` in every frame: a 900 KB model made each token a 900 KB
    // frame (a 5,000-token answer ran the process out of heap). It answered these with a 200 stream (model) and a
    // 404 naming the config (config_id).
    it.each([
      ['model', { model: 'x'.repeat(900_000) }],
      ['config_id', { config_id: 'x'.repeat(900_000) }],
      ['guardrails.config_id', { guardrails: { config_id: 'x'.repeat(900_000) } }],
    ])('should answer a 900 KB %s with an OpenAI-shaped 400 naming it', async (param, fields) => {
      const response = await postChat(server.url, chatBody('Hi', { stream: true, ...fields }));
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        error: { message: `Invalid value for '${param}': at most 256 characters.`, type: 'invalid_request_error', param, code: 'invalid_value' },
      });
      // And serves on.
      expect((await openStream(server.url, chatBody('Hi', { stream: true })).result).text).toBe(CHAT_ANSWER);
    });
  });

  describe('Connection: close', () => {
    // The old server forced `connection: keep-alive` on every stream, so the socket stayed open until Node's
    // keep-alive timeout (5 s; 6 s measured) after `data: [DONE]`: rawExchange's 4 s deadline would pass first.
    it('should close the connection right after data: [DONE] when a streaming request asks for it', async () => {
      const exchange = await rawExchange(server.port, rawChatRequest(server.port, chatBody('Hi', { stream: true }), { connection: 'close' }), 4_000);
      expect(exchange.timedOut).toBe(false);
      expect(exchange.raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(exchange.raw).toMatch(/\r\nconnection: close\r\n/i);
      expect(exchange.raw).toContain('data: [DONE]\n\n');
      expect(exchange.endedAt - exchange.doneAt!).toBeLessThan(1_000);
    });
  });

  describe('the OpenAI client', () => {
    const client = (headers: Record<string, string> = {}) => new OpenAI({ apiKey: 'none', baseURL: `${server.url}/v1`, maxRetries: 0, defaultHeaders: headers });

    // The old server had no GET /v1/models: the client got a 404 (a NotFoundError).
    it('should list the configs as models with client.models.list()', async () => {
      const ids: string[] = [];
      for await (const model of client().models.list()) ids.push(model.id);
      expect(ids).toEqual(['chat', 'greeter']);
    });

    // Typed end to end, without a cast: the config comes from a header the SDK's defaultHeaders sets, not from a
    // body field its types do not know. The old server ignored the header and answered from the default config.
    it('should answer from the config named by the X-Guardrails-Config-Id header (defaultHeaders)', async () => {
      const greeter = client({ 'X-Guardrails-Config-Id': 'greeter' });
      const completion = await greeter.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
      expect(completion.choices[0]?.message.content).toBe(GREETER_ANSWER);
      const stream = await greeter.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe(GREETER_ANSWER);
      // Without the header, the default config answers.
      const plain = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
      expect(plain.choices[0]?.message.content).toBe(CHAT_ANSWER);
    });
  });

  describe('CORS', () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-guardrails-config-id' },
      });
    const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith('access-control-'));

    describe(`with --cors-origin ${APP}`, () => {
      // The old server had no such flag: it would not start (exit code 2), and answered preflights with a 404.
      let corsServer: ServerProcess;
      beforeAll(async () => {
        corsServer = await serverOn(['--cors-origin', APP]);
      });
      afterAll(async () => {
        if (corsServer) expect(await corsServer.stop()).toBe(0);
      });

      it('should answer a preflight from that origin with the allow headers', async () => {
        const response = await preflight(corsServer.url, APP);
        expect(response.status).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(APP);
        expect(response.headers.get('access-control-allow-methods')?.split(',')).toContain('POST');
        expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-guardrails-config-id']));
      });

      it('should put access-control-allow-origin on a streaming answer to that origin, and stream it whole', async () => {
        const read = await openStream(corsServer.url, chatBody('Hi', { stream: true }), { origin: APP }).result;
        expect(read.status).toBe(200);
        expect(read.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        expect(read.headers.get('access-control-allow-origin')).toBe(APP);
        expect(read.text).toBe(CHAT_ANSWER);
        expect(read.done).toBe(true);
      });

      it('should allow no other origin', async () => {
        const response = await preflight(corsServer.url, 'http://evil.example');
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        const read = await openStream(corsServer.url, chatBody('Hi', { stream: true }), { origin: 'http://evil.example' }).result;
        expect(read.headers.get('access-control-allow-origin')).toBeNull();
      });
    });

    it('should send no CORS header without --cors-origin', async () => {
      const response = await preflight(server.url, APP);
      expect(corsHeaders(response.headers)).toEqual([]);
      const read = await openStream(server.url, chatBody('Hi', { stream: true }), { origin: APP }).result;
      expect(read.text).toBe(CHAT_ANSWER);
      expect(corsHeaders(read.headers)).toEqual([]);
    });
  });

  describe('the API key', () => {
    const withKey = (url: string, authorization?: string) => postChat(url, chatBody('Hi'), authorization === undefined ? {} : { authorization });

    // The old server matched the scheme case-sensitively: `bearer` (RFC 7235 says the scheme is case-insensitive,
    // and some clients send it so) got a 401.
    it('should accept the Bearer scheme in any case (RXGUARDRAILS_API_KEY)', async () => {
      const keyed = await serverOn([], { RXGUARDRAILS_API_KEY: 'sk-local' });
      try {
        expect((await withKey(keyed.url, 'bearer sk-local')).status).toBe(200);
        expect((await withKey(keyed.url, 'BEARER sk-local')).status).toBe(200);
        expect((await withKey(keyed.url, 'Bearer sk-other')).status).toBe(401);
        expect((await withKey(keyed.url)).status).toBe(401);
      } finally {
        expect(await keyed.stop()).toBe(0);
      }
    });

    // The old server had no --api-key-file: it would not start (exit code 2).
    it('should read the key from --api-key-file, and not warn', async () => {
      const file = join(tmpdir(), `rxguardrails-hostile-key-${process.pid}`);
      writeFileSync(file, 'sk-from-file\n', { mode: 0o600 });
      try {
        const keyed = await serverOn(['--api-key-file', file]);
        try {
          expect((await withKey(keyed.url, 'Bearer sk-from-file')).status).toBe(200);
          expect((await withKey(keyed.url)).status).toBe(401);
          expect(keyed.stderr()).toBe('');
        } finally {
          expect(await keyed.stop()).toBe(0);
        }
      } finally {
        rmSync(file, { force: true });
      }
    });

    // The old server took --api-key silently, though any user of the machine can read it in the process list.
    it('should warn on stderr that --api-key shows in the process list, and still use it', async () => {
      const keyed = await serverOn(['--api-key', 'sk-flag']);
      try {
        await keyed.waitFor('process list');
        expect(keyed.stderr()).toBe('rxguardrails: warning: --api-key is visible to other users in the process list; prefer RXGUARDRAILS_API_KEY or --api-key-file\n');
        expect((await withKey(keyed.url, 'Bearer sk-flag')).status).toBe(200);
      } finally {
        expect(await keyed.stop()).toBe(0);
      }
    });
  });
});
