// The server's answers to a provider that stalls or rate-limits (createApp through app.request(), no port): a 504
// before the first token, an error frame then [DONE] after it, a 429 with the provider's retry-after.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp } from 'rxguardrails/server';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { ask, framesOf } from './serverHarness.js';

const post = (app: Hono, body: object) =>
  app.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Config folders, one per entry, in a temporary folder of configs. */
function configFolders(configs: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rxguardrails-upstream-'));
  for (const [id, yaml] of Object.entries(configs)) {
    mkdirSync(join(root, id));
    writeFileSync(join(root, id, 'config.yml'), yaml);
  }
  return root;
}

const CONFIGS = {
  // A scripted model slower than its bounds: no provider needed for a 504.
  'slow-scripted': `
models:
  - type: main
    engine: scripted
    parameters: { responses: ["Hello there, how are you?"], delay_ms: 2000 }
upstream: { first_token_timeout_ms: 100 }
`,
  openai: `
models:
  - type: main
    engine: openai
    model: gpt-4o-mini
streaming: True
upstream: { first_token_timeout_ms: 200, idle_timeout_ms: 200 }
`,
};

describe('the server and a misbehaving provider', () => {
  const replay = useReplayServer();
  let root: string;
  let app: Hono;
  const onError = jest.fn();

  beforeAll(async () => {
    root = configFolders(CONFIGS);
    app = await createApp({ configDir: root, clients: { openai: openAIClient(replay.server) }, onError, onWarning: () => undefined });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  afterEach(() => {
    replay.server.clearPlans();
    expect(onError).not.toHaveBeenCalled();
  });

  describe('without stream', () => {
    it('should answer 504 with an OpenAI-shaped timeout error when the model times out before its first token', async () => {
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'slow-scripted' });
      expect(response.status).toBe(504);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        error: {
          message: 'The model provider timed out: scripted: timeout upstream_timeout: no answer within 100 ms of the request (first-token timeout)',
          type: 'timeout',
          param: null,
          code: 'upstream_timeout',
        },
      });
    });

    it('should answer 504 for a real provider that never answers, and close the request to it', async () => {
      const { server } = replay;
      server.plan({ holdBeforeHeaders: true });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai' });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'timeout', code: 'upstream_timeout', message: expect.stringContaining('within 200 ms') }) });
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
    });

    it("should answer a provider's 429 with a 429 and the provider's retry-after", async () => {
      const { server } = replay;
      server.plan({
        status: 429,
        body: { error: { message: 'Rate limit reached for gpt-4o-mini.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
        headers: { 'retry-after': '7' },
      });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai' });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(await response.json()).toEqual({
        error: {
          message: 'The model provider failed: openai: HTTP 429 requests rate_limit_exceeded: Rate limit reached for gpt-4o-mini.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
    });

    it('should answer a 429 without retry-after when the provider gave none', async () => {
      replay.server.plan({ status: 429, body: { error: { message: 'Slow down.', type: 'requests', code: 'rate_limit_exceeded' } } });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai' });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBeNull();
    });

    it('should still answer other provider failures with a 502', async () => {
      replay.server.plan({ status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai' });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'server_error', message: 'The model provider failed: openai: HTTP 500 server_error: boom' }) });
    });
  });

  describe('with stream: true', () => {
    it('should end a stream that stalls after some tokens with a timeout error frame, then [DONE]', async () => {
      const { server } = replay;
      server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 4 });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai', stream: true });
      expect(response.status).toBe(200);
      const frames = framesOf(await response.text());
      const tokens = frames
        .filter((frame) => frame.startsWith('data: {"id"'))
        .map((frame) => (JSON.parse(frame.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
        .join('');
      expect(tokens).toBe('Hello! How');
      expect(frames.slice(-2)).toEqual([
        'data: {"error": {"message": "The model provider timed out: openai: timeout upstream_timeout: the stream stalled: nothing for 200 ms since the last event (idle timeout) (after the stream had started)", "type": "timeout", "param": null, "code": "upstream_timeout"}}',
        'data: [DONE]',
      ]);
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
    });

    // The SSE writer sends nothing before the answer's first token, so a failure before it is a real HTTP status.
    it('should answer 504 OpenAI-shaped JSON, not a 200 stream, when the model times out before its first token', async () => {
      const { server } = replay;
      server.plan({ holdBeforeHeaders: true });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai', stream: true });
      expect(response.status).toBe(504);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        error: {
          message: 'The model provider timed out: openai: timeout upstream_timeout: no answer within 200 ms of the request (first-token timeout)',
          type: 'timeout',
          param: null,
          code: 'upstream_timeout',
        },
      });
      await server.requests.at(-1)!.closed;
      expect(server.requests.at(-1)!.ended).toBe(false);
    });

    it("should answer a provider's 429 before any token with a 429 and the provider's retry-after, not a 200 stream", async () => {
      replay.server.plan({
        status: 429,
        body: { error: { message: 'Slow down.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
        headers: { 'retry-after': '7' },
      });
      const response = await post(app, { model: 'm', messages: ask('Hi'), config_id: 'openai', stream: true });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(await response.json()).toEqual({ error: expect.objectContaining({ type: 'requests', code: 'rate_limit_exceeded' }) });
    });
  });
});
