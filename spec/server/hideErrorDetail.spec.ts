// createApp's hideErrorDetail: a failed rail or provider reaches clients without the error's own text (which may
// name a private endpoint or a key), in NeMo's shapes, and the error goes to onError with the request instead.
// Served on 127.0.0.1 and called with the real openai client, and raw HTTP to see the bytes.
import { APIError } from 'openai';
import { ProviderError, RailViolationError } from 'rxguardrails';
import type { ErrorContext } from 'rxguardrails/server';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { ask, framesOf, type Running, start } from './serverHarness.js';

const CONFIGS = 'spec/fixtures/server-error-detail';
const SECRETS = ['moderation.internal', 'sk-live-1234'];

/** The body of a streamed answer, as the bytes a client receives. */
async function streamed(running: Running, configId: string): Promise<string> {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: ask('Count'), stream: true, config_id: configId }),
  });
  expect(response.status).toBe(200);
  return response.text();
}

describe('hideErrorDetail', () => {
  const replay = useReplayServer();
  const reported: { error: unknown; context: ErrorContext }[] = [];
  let hiding: Running;
  let showing: Running;
  beforeAll(async () => {
    const clients = { openai: openAIClient(replay.server) };
    hiding = await start({ configDir: CONFIGS, clients, hideErrorDetail: true, onError: (error, context) => reported.push({ error, context }) });
    showing = await start({ configDir: CONFIGS, clients, onError: (error) => reported.push({ error, context: {} }) });
  });
  afterAll(async () => {
    await hiding.close();
    await showing.close();
  });
  beforeEach(() => {
    reported.length = 0;
  });
  afterEach(() => replay.server.clearPlans());

  it("should end a stream whose output rail failed with NeMo's frame, the rail named and its error withheld", async () => {
    const body = await streamed(hiding, 'leaky-output');
    const frames = framesOf(body);
    expect(frames.slice(-2)).toEqual([
      'data: {"error": {"message": "Internal error in leaky check rail: the rail failed", "type": "internal_error", "param": "leaky check", "code": "rail_execution_failure"}}',
      'data: [DONE]',
    ]);
    for (const secret of SECRETS) expect(body).not.toContain(secret);
    // The detail is with the server, with the request it belongs to.
    const id = /"id": ?"(chatcmpl-[^"]+)"/.exec(body)![1];
    expect(reported).toEqual([{ error: expect.any(RailViolationError), context: { requestId: id, configId: 'leaky-output' } }]);
    expect((reported[0]!.error as Error).message).toBe('Internal error in leaky check rail: POST https://moderation.internal:9000/v1 with key sk-live-1234 refused');

    // Without the option: NeMo's server sends the detail, and it is no unexpected error.
    const shown = await streamed(showing, 'leaky-output');
    expect(shown).toContain('"message": "Internal error in leaky check rail: POST https://moderation.internal:9000/v1 with key sk-live-1234 refused"');
    expect(reported).toHaveLength(1);
  });

  it('should throw the same APIError in the openai client, with the message withheld', async () => {
    const stream = await hiding.client.chat.completions.create({ model: 'm', messages: ask('Count'), stream: true, config_id: 'leaky-output' } as never);
    const caught = await (async () => {
      for await (const _chunk of stream as unknown as AsyncIterable<unknown>);
    })().catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(APIError);
    expect((caught as APIError).message).toBe('Internal error in leaky check rail: the rail failed');
    expect((caught as APIError).error).toEqual({ message: 'Internal error in leaky check rail: the rail failed', type: 'internal_error', param: 'leaky check', code: 'rail_execution_failure' });
  });

  it("should answer an input rail's failure with NeMo's internal-error answer and the violation withheld", async () => {
    const completion = (await hiding.client.chat.completions.create({ model: 'm', messages: ask('Hi'), config_id: 'leaky-input' } as never)) as unknown as {
      id: string;
      choices: { message: { content: string } }[];
      guardrails: unknown;
    };
    expect(completion.choices[0]!.message.content).toBe("I'm sorry, an internal error has occurred.");
    expect(completion.guardrails).toEqual({
      config_id: 'leaky-input',
      violation: { message: 'Internal error in leaky input rail: the rail failed', type: 'internal_error', param: 'leaky input', code: 'rail_execution_failure' },
    });
    expect(JSON.stringify(completion)).not.toContain('sk-live');
    expect(reported).toEqual([{ error: expect.any(RailViolationError), context: { requestId: completion.id, configId: 'leaky-input' } }]);
  });

  it('should leave a block as it is: nothing is withheld, and it is no error', async () => {
    const body = await streamed(hiding, 'strict');
    expect(framesOf(body).slice(-2)).toEqual([
      'data: {"error": {"message": "Blocked by keyword check rails.", "type": "guardrails_violation", "param": "keyword check", "code": "content_blocked"}}',
      'data: [DONE]',
    ]);
    expect(reported).toEqual([]);
  });

  it("should answer a provider's 429 with its status, type, code and retry-after, and without its message", async () => {
    replay.server.plan({
      status: 429,
      body: { error: { message: 'Rate limit reached for org-secret-42 on gpt-4o-mini.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
      headers: { 'retry-after': '7' },
    });
    const response = await fetch(`${hiding.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: ask('Hi'), config_id: 'openai' }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: { message: 'The model provider failed: requests (HTTP 429)', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    expect(reported).toEqual([{ error: expect.any(ProviderError), context: expect.objectContaining({ configId: 'openai' }) }]);
    expect((reported[0]!.error as ProviderError).message).toContain('org-secret-42');
  });

  it('should end a stream whose provider stalled with a timeout frame that says only that', async () => {
    replay.server.plan({ transcript: 'openai-chat-basic.sse', holdAfterBlocks: 4 });
    const body = await streamed(hiding, 'openai');
    expect(framesOf(body).slice(-2)).toEqual([
      'data: {"error": {"message": "The model provider timed out.", "type": "timeout", "param": null, "code": "upstream_timeout"}}',
      'data: [DONE]',
    ]);
    expect(reported).toEqual([{ error: expect.objectContaining({ type: 'timeout', message: expect.stringContaining('200 ms') }), context: expect.objectContaining({ configId: 'openai' }) }]);
    for (const secret of SECRETS) expect(body).not.toContain(secret);
  });

  it('should refuse a hideErrorDetail that is not a boolean', async () => {
    await expect(start({ configDir: CONFIGS, hideErrorDetail: 'yes' as never })).rejects.toThrow('createApp: hideErrorDetail must be true or false, got "yes"');
  });
});
