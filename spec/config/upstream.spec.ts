// The `upstream:` settings of config.yml (the bounds on the waits for the model provider, and the SDK's retries)
// and RXGUARDRAILS_UPSTREAM_TIMEOUT_MS: how they parse, which wins, the documented defaults, and what the models
// made from the config do with them (the scripted engine in real time, the openai engine against the replay server).
import { type ChatMessage, ConfigError, type ConfigIssue, LLMRails, ProviderError, RailsConfig, RailViolationError } from 'rxguardrails';
import { upstreamOf } from '../../lib/llm/engineModel.js';
import { collect } from '../support/collect.js';
import { useReplayServer } from '../support/clients.js';
import { configOf, scriptedEngine } from '../support/configs.js';
import { useEnvironment } from '../support/environment.js';

const ENV = 'RXGUARDRAILS_UPSTREAM_TIMEOUT_MS';
const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];
const openAIEntry = { type: 'main', engine: 'openai', model: 'gpt-4o-mini' };

function loadError(content: string): ConfigError {
  try {
    RailsConfig.fromContent(content, { file: 'config.yml' });
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the config loaded without an error');
}

describe('upstream settings of config.yml', () => {
  const setEnvironment = useEnvironment();
  beforeEach(() => setEnvironment({ [ENV]: undefined }));

  describe('parsing', () => {
    it('should read upstream at the top level and in a models entry', () => {
      const config = RailsConfig.fromContent(`
models:
  - type: main
    engine: openai
    model: gpt-4o-mini
    upstream: { first_token_timeout_ms: 90000, max_retries: 1 }
upstream:
  timeout_ms: 20000
  idle_timeout_ms: 15000
  max_retries: 0
`);
      expect(config.data.upstream).toEqual({ timeout_ms: 20_000, idle_timeout_ms: 15_000, max_retries: 0 });
      expect(config.model('main')!.upstream).toEqual({ first_token_timeout_ms: 90_000, max_retries: 1 });
      expect(config.warnings).toEqual([]);
    });

    it.each([
      ['upstream:\n  timeout_ms: 0\n', 'config.yml:2:15: upstream.timeout_ms: must be a positive number of milliseconds'],
      ['upstream:\n  first_token_timeout_ms: -5\n', 'config.yml:2:27: upstream.first_token_timeout_ms: must be a positive number of milliseconds'],
      ['upstream:\n  idle_timeout_ms: .inf\n', 'config.yml:2:20: upstream.idle_timeout_ms: must be a positive number of milliseconds'],
      ['upstream:\n  idle_timeout_ms: soon\n', 'config.yml:2:20: upstream.idle_timeout_ms: must be a positive number of milliseconds'],
      ['upstream:\n  max_retries: 1.5\n', 'config.yml:2:16: upstream.max_retries: must be an integer, at least 0'],
      ['upstream:\n  max_retries: -1\n', 'config.yml:2:16: upstream.max_retries: must be an integer, at least 0'],
      [
        'models:\n  - engine: scripted\n    parameters: { responses: [Hi] }\n    upstream: { idle_timeout_ms: 0 }\n',
        'config.yml:4:34: models[0].upstream.idle_timeout_ms: must be a positive number of milliseconds',
      ],
    ])('should refuse %j with a ConfigError at its key', (content, message) => {
      const error = loadError(content);
      expect(error.message).toBe(message);
    });

    it('should warn about an unknown key under upstream and ignore it', () => {
      const warnings: ConfigIssue[] = [];
      const config = RailsConfig.fromContent('upstream:\n  timeout: 5000\n', { file: 'config.yml', onWarning: (warning) => warnings.push(warning) });
      expect(warnings).toEqual([expect.objectContaining({ key: 'upstream.timeout', line: 2, message: expect.stringContaining('unknown key, ignored') })]);
      expect(config.data.upstream).toEqual({});
    });
  });

  describe('which bound applies', () => {
    const settings = (content: Parameters<typeof configOf>[0] & { upstream?: object }) => {
      const config = configOf(content as never);
      return upstreamOf(config, config.models[0]!);
    };

    it('should default to 60 s for the first token, 30 s between tokens, and no SDK retries', () => {
      expect(settings({ models: [openAIEntry as never] })).toEqual({ timeout: { firstTokenMs: 60_000, idleMs: 30_000 }, maxRetries: 0 });
    });

    it(`should take ${ENV} for both waits when the config sets neither`, () => {
      setEnvironment({ [ENV]: '5000' });
      expect(settings({ models: [openAIEntry as never] }).timeout).toEqual({ firstTokenMs: 5_000, idleMs: 5_000 });
    });

    it(`should take ${ENV} only for the wait the config does not set`, () => {
      setEnvironment({ [ENV]: '5000' });
      expect(settings({ models: [openAIEntry as never], upstream: { idle_timeout_ms: 100 } }).timeout).toEqual({ firstTokenMs: 5_000, idleMs: 100 });
    });

    it(`should prefer the config's timeout_ms to ${ENV}, and each wait's own key to timeout_ms`, () => {
      setEnvironment({ [ENV]: '5000' });
      expect(settings({ models: [openAIEntry as never], upstream: { timeout_ms: 2_000, first_token_timeout_ms: 9_000 } }).timeout).toEqual({ firstTokenMs: 9_000, idleMs: 2_000 });
    });

    it("should prefer the models entry's settings to the top level's, key by key", () => {
      const entry = { ...openAIEntry, upstream: { timeout_ms: 1_000, max_retries: 2 } };
      expect(settings({ models: [entry as never], upstream: { first_token_timeout_ms: 9_000, idle_timeout_ms: 8_000, max_retries: 1 } })).toEqual({
        timeout: { firstTokenMs: 1_000, idleMs: 1_000 },
        maxRetries: 2,
      });
      const partial = { ...openAIEntry, upstream: { idle_timeout_ms: 500 } };
      expect(settings({ models: [partial as never], upstream: { timeout_ms: 7_000 } }).timeout).toEqual({ firstTokenMs: 7_000, idleMs: 500 });
    });

    it.each(['0', '-1', 'soon', 'Infinity'])(`should refuse ${ENV}=%s with a ConfigError naming the variable, when the rails are built`, (value) => {
      setEnvironment({ [ENV]: value });
      const build = () => new LLMRails(configOf({ models: [scriptedEngine(['Hi'])] }));
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(`<object>: the environment variable ${ENV} must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
    });

    it(`should ignore an empty ${ENV}`, () => {
      setEnvironment({ [ENV]: '' });
      expect(settings({ models: [openAIEntry as never] }).timeout).toEqual({ firstTokenMs: 60_000, idleMs: 30_000 });
    });
  });

  describe('the scripted engine', () => {
    const scripted = (delayMs: number, upstream?: object) =>
      configOf({ models: [{ ...scriptedEngine(['slow answer here'], { delayMs }), ...(upstream ? { upstream } : {}) } as never], streaming: true } as never);

    it('should fail a word later than the idle bound with a timeout ProviderError, keeping the words before it', async () => {
      const rails = new LLMRails(scripted(150, { first_token_timeout_ms: 1_000, idle_timeout_ms: 50 }));
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.items).toEqual(['slow ']);
      expect(ProviderError.isInstance(outcome.error)).toBe(true);
      expect(outcome.error).toEqual(expect.objectContaining({ provider: 'scripted', type: 'timeout', code: 'upstream_timeout', during: 'stream' }));
      expect(rails.explain().llmCalls).toEqual([expect.objectContaining({ outcome: 'error' })]);
    });

    it('should fail at the first-token bound before any word', async () => {
      const rails = new LLMRails(scripted(1_000, { first_token_timeout_ms: 50 }));
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.items).toEqual([]);
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'request', message: 'scripted: timeout upstream_timeout: no answer within 50 ms of the request (first-token timeout)' }));
    });

    it(`should follow ${ENV} when the config sets no bound`, async () => {
      setEnvironment({ [ENV]: '50' });
      const outcome = await collect(new LLMRails(scripted(1_000)).stream(ask('Hi')));
      expect(outcome.error).toEqual(expect.objectContaining({ type: 'timeout', message: expect.stringContaining('within 50 ms') }));
    });

    it('should bound the judges too: a judge over its bound fails its rail, closed', async () => {
      const config = configOf({
        models: [scriptedEngine(['The weather is fine']), { ...scriptedEngine(['No'], { type: 'self_check_output', delayMs: 1_000 }), upstream: { first_token_timeout_ms: 50 } } as never],
        streaming: true,
        rails: { output: { flows: ['self check output'], streaming: { enabled: true, chunk_size: 4, context_size: 1 } } },
        prompts: [{ task: 'self_check_output', content: 'Block "{{ bot_response }}"?' }],
      });
      const outcome = await collect(new LLMRails(config).stream(ask('How is the weather?')));
      expect(RailViolationError.isInstance(outcome.error)).toBe(true);
      const { verdict } = (outcome.error as RailViolationError).info;
      expect(verdict).toEqual(expect.objectContaining({ rail: 'self check output', kind: 'internal_error' }));
      expect(verdict.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'scripted', type: 'timeout', during: 'request' }));
    });
  });

  describe('clients made from the environment (the real openai client, its base URL pointed at the replay server)', () => {
    const replay = useReplayServer();
    afterEach(() => replay.server.clearPlans());
    const openAIRails = (upstream?: object) => {
      setEnvironment({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: replay.server.openAIBaseURL });
      return new LLMRails(configOf({ models: [{ ...openAIEntry, ...(upstream ? { upstream } : {}) } as never], streaming: true } as never));
    };
    const serverError = { status: 500, body: { error: { message: 'boom', type: 'server_error' } }, headers: { 'retry-after-ms': '10' } };

    it('should end the wait for a provider that never answers at the first-token bound, closing the request', async () => {
      const { server } = replay;
      server.plan({ holdBeforeHeaders: true });
      const rails = openAIRails({ first_token_timeout_ms: 200 });
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'openai', type: 'timeout', during: 'request', message: expect.stringContaining('within 200 ms') }));
      const request = server.requests.at(-1)!;
      await request.closed;
      expect(request.ended).toBe(false);
      expect(rails.explain().llmCalls).toEqual([expect.objectContaining({ outcome: 'error', estimated: true })]);
    });

    it('should not retry by default: one request, its failure answered at once', async () => {
      const { server } = replay;
      const before = server.requests.length;
      server.plan(serverError, 'openai-chat-basic.sse');
      const outcome = await collect(openAIRails().stream(ask('Hi')));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', status: 500 }));
      expect(server.requests.length - before).toBe(1);
    });

    it('should let the SDK retry max_retries times', async () => {
      const { server } = replay;
      const before = server.requests.length;
      server.plan(serverError, 'openai-chat-basic.sse');
      const outcome = await collect(openAIRails({ max_retries: 1 }).stream(ask('Hi')));
      expect(outcome.completed).toBe(true);
      expect(outcome.items.join('')).toBe('Hello! How can I assist you today?');
      expect(server.requests.length - before).toBe(2);
    });

    it('should make the Anthropic client the same way: no retries by default', async () => {
      const { server } = replay;
      const before = server.requests.length;
      server.plan({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, headers: { 'retry-after-ms': '10' } }, 'anthropic-messages-basic.sse');
      setEnvironment({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: server.anthropicBaseURL });
      const rails = new LLMRails(configOf({ models: [{ type: 'main', engine: 'anthropic', model: 'claude-opus-4-7' }], streaming: true }));
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', provider: 'anthropic', status: 529 }));
      expect(server.requests.length - before).toBe(1);
    });

    it("should keep the SDK's retries inside the first-token bound: retries never multiply the wait", async () => {
      const { server } = replay;
      const before = server.requests.length;
      // The SDK would wait 1 s before each of its 3 retries; the bound is 300 ms for all of them.
      const slowRetry = { ...serverError, headers: { 'retry-after-ms': '1000' } };
      server.plan(slowRetry, slowRetry, slowRetry, slowRetry);
      const rails = openAIRails({ first_token_timeout_ms: 300, max_retries: 3 });
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.error).toEqual(expect.objectContaining({ name: 'ProviderError', type: 'timeout', during: 'request', message: expect.stringContaining('within 300 ms') }));
      expect(server.requests.length - before).toBe(1);
      expect(rails.explain().llmCalls[0]!.durationMs).toBeLessThan(1_000);
    });
  });
});
