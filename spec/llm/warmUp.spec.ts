// LLMRails.warmUp(): the SDKs of the config's engines are imported then, not on the first call (a server warms up
// before it listens). Here `openai` cannot be imported (a module mock throwing as a missing package does), so the
// warm-up must fail with the ConfigError naming the package, and a server must serve the config as unavailable.
import { createApp } from 'rxguardrails/server';
import { ConfigError, LLMRails, RailsConfig } from 'rxguardrails';

jest.mock('openai', () => {
  throw Object.assign(new Error("Cannot find module 'openai'"), { code: 'MODULE_NOT_FOUND' });
});

const openAIConfig = () =>
  RailsConfig.fromContent({ models: [{ type: 'main', engine: 'openai', model: 'gpt-4o-mini', api_key_env_var: 'WARM_UP_TEST_KEY' }], streaming: true });

describe('LLMRails.warmUp', () => {
  beforeAll(() => {
    process.env.WARM_UP_TEST_KEY = 'sk-test';
    process.env.PARTIAL_TEST_OPENAI_KEY = 'sk-test';
  });
  afterAll(() => {
    delete process.env.WARM_UP_TEST_KEY;
    delete process.env.PARTIAL_TEST_OPENAI_KEY;
  });

  it('should import the engine SDK at once, failing with a ConfigError that names the package when it is missing', async () => {
    const rails = new LLMRails(openAIConfig());
    const failure = await rails.warmUp().catch((error: unknown) => error);
    expect(ConfigError.isInstance(failure)).toBe(true);
    expect((failure as ConfigError).issues).toEqual([expect.objectContaining({ environment: 'openai', message: 'engine openai needs the openai package: npm install openai' })]);
  });

  it('should have nothing to import for scripted models and models given', async () => {
    const scripted = new LLMRails(RailsConfig.fromContent({ models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } }] }));
    await expect(scripted.warmUp()).resolves.toBeUndefined();
  });

  it('should make a server serve such a config as unavailable, naming the package, and serve the others', async () => {
    const app = await createApp({ configDir: 'spec/fixtures/server-partial' });
    expect(await (await app.request('/v1/rails/configs')).json()).toEqual([
      { id: 'needs-key', available: false, reason: 'engine openai needs the openai package: npm install openai' },
      { id: 'working' },
    ]);
  });
});
