// createApp itself, through app.request() (no port): its options, the configs it finds and refuses, and where
// unexpected errors go.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { concat, of, throwError } from 'rxjs';
import { type ChatModel, ConfigError, InvalidOptionError, ProviderError, scriptedModel } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';
import { createApp, type ErrorContext } from 'rxguardrails/server';
import { ask, CONFIGS, framesOf } from './serverHarness.js';

const SKIPPED_ENTRIES = 'spec/fixtures/server-skipped-entries';
const SERVER_ERROR = { error: { message: 'Internal server error.', type: 'server_error', param: null, code: null } };
const SERVER_ERROR_FRAME = 'data: {"error": {"message": "Internal server error.", "type": "server_error", "param": null, "code": null}}';

const post = (app: Hono, body: object) =>
  app.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('createApp', () => {
  describe('options', () => {
    it('should reject an onError that is not a function, with an InvalidOptionError', async () => {
      const made = createApp({ configDir: CONFIGS, onError: 'console' as never });
      await expect(made).rejects.toThrow(InvalidOptionError);
      await expect(made).rejects.toThrow("createApp: onError must be a function (error) => void, got \"console\"");
      await expect(made).rejects.toEqual(expect.objectContaining({ option: 'onError', value: 'console' }));
    });

    it('should reject an onWarning that is not a function, with an InvalidOptionError', async () => {
      const made = createApp({ configDir: CONFIGS, onWarning: true as never });
      await expect(made).rejects.toThrow(InvalidOptionError);
      await expect(made).rejects.toThrow('createApp: onWarning must be a function (warning) => void, got true');
    });

    it('should reject a usage that cannot record', async () => {
      await expect(createApp({ configDir: CONFIGS, usage: {} as never })).rejects.toThrow('createApp: usage must be a UsageTracker (or an object with next(call)), got an object');
    });

    it('should reject an unknown option, naming the known ones', async () => {
      await expect(createApp({ configDir: CONFIGS, onerror: () => undefined } as never)).rejects.toThrow("createApp: unknown option 'onerror' (did you mean 'onError'?)");
    });
  });

  describe('a bad config', () => {
    it('should refuse to start on it, with the ConfigError', async () => {
      await expect(createApp({ configDir: 'spec/fixtures/configs/unknown-engine' })).rejects.toThrow(ConfigError);
      await expect(createApp({ configDir: 'spec/fixtures/configs/unknown-engine' })).rejects.toThrow('models[0].engine: unknown engine "cohere"');
    });

    it('should refuse a folder without any config', async () => {
      await expect(createApp({ configDir: 'spec/fixtures/sse' })).rejects.toThrow('spec/fixtures/sse: no config.yml here, nor in any sub-folder');
    });

    it('should refuse a default config it does not have', async () => {
      await expect(createApp({ configDir: CONFIGS, defaultConfigId: 'nope' })).rejects.toThrow("createApp: no config 'nope' in spec/fixtures/server-configs (there are: strict, support)");
    });
  });

  describe('config discovery', () => {
    let scratch: string;
    beforeEach(() => {
      scratch = mkdtempSync(join(tmpdir(), 'rxguardrails-discovery-'));
    });
    afterEach(() => rmSync(scratch, { recursive: true, force: true }));

    /** A copy of a fixture folder, with a node_modules folder holding `file`: git ignores node_modules/ everywhere, so no fixture can hold one. */
    const withNodeModules = (fixture: string, file: string) => {
      const copy = join(scratch, fixture.split('/').at(-1)!);
      cpSync(fixture, copy, { recursive: true });
      mkdirSync(join(copy, 'node_modules', 'some-package'), { recursive: true });
      writeFileSync(join(copy, 'node_modules', file), '# Never read: the YAML does not parse.\nmodels: [ never read\n');
      return copy;
    };

    it('should serve the sub-folders holding a config, skipping those starting with _ or . and node_modules', async () => {
      const app = await createApp({ configDir: withNodeModules(CONFIGS, 'config.yml') });
      expect(await (await app.request('/v1/rails/configs')).json()).toEqual([{ id: 'strict' }, { id: 'support' }]);
    });

    it('should read one config without the entries RailsConfig.fromPath skips (_, . and node_modules)', async () => {
      const folder = withNodeModules(SKIPPED_ENTRIES, 'some-package/config.yml');
      const app = await createApp({ configDir: folder });
      expect(await (await app.request('/v1/rails/configs')).json()).toEqual([{ id: 'server-skipped-entries' }]);
      const completion = (await (await post(app, { model: 'm', messages: ask('Hi') })).json()) as { choices: { message: { content: string } }[] };
      expect(completion.choices[0]!.message.content).toBe('Only config.yml was read.');
    });

    it('should skip the same entries in RailsConfig.fromPath', async () => {
      const config = await RailsConfig.fromPath(withNodeModules(SKIPPED_ENTRIES, 'some-package/config.yml'));
      expect(config.models).toEqual([expect.objectContaining({ type: 'main', engine: 'scripted' })]);
    });
  });

  describe('unexpected errors', () => {
    // The model's own Error, so a spec can tell it arrived as it was thrown (not wrapped, not copied).
    const failure = new Error('the model broke');
    const broken = () => scriptedModel([failure]);
    /** A model that streams `text`, then fails. */
    const failsAfter = (text: string): ChatModel => ({ provider: 'test', model: 'failing', stream: () => concat(of(text), throwError(() => failure)) });

    it('should give an unexpected failure of an answer to onError, and answer 500', async () => {
      const errors: unknown[] = [];
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: broken() }, onError: (error) => errors.push(error) });
      const response = await post(app, { model: 'm', messages: ask('Hi') });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual(SERVER_ERROR);
      expect(errors).toEqual([failure]);
      expect(errors[0]).toBe(failure);
    });

    it('should answer 500 to a streamed answer that fails before its first token, giving the failure to onError with the request', async () => {
      const errors: [unknown, ErrorContext][] = [];
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: broken() }, onError: (error, context) => errors.push([error, context]) });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual(SERVER_ERROR);
      expect(errors).toEqual([[failure, { requestId: expect.stringMatching(/^chatcmpl-/), configId: 'support' }]]);
      expect(errors[0]![0]).toBe(failure);
    });

    it('should end a streamed answer that fails after its first token with a server_error frame, giving the failure to onError', async () => {
      const errors: unknown[] = [];
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: failsAfter('Hello ') }, onError: (error) => errors.push(error) });
      const response = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      expect(response.status).toBe(200);
      expect(framesOf(await response.text()).slice(-2)).toEqual([SERVER_ERROR_FRAME, 'data: [DONE]']);
      expect(errors).toEqual([failure]);
    });

    it('should give an error thrown by a handler to onError, and answer 500', async () => {
      const errors: unknown[] = [];
      const app = await createApp({ configDir: CONFIGS, onError: (error) => errors.push(error) });
      // A route the user adds to the app is handled by the app's onError too.
      app.get('/broken', () => {
        throw new Error('the handler broke');
      });
      const response = await app.request('/broken');
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual(SERVER_ERROR);
      expect(errors).toEqual([new Error('the handler broke')]);
    });

    it('should still answer 500 when onError throws', async () => {
      const app = await createApp({
        configDir: CONFIGS,
        defaultConfigId: 'support',
        models: { main: broken() },
        onError: () => {
          throw new Error('the reporter broke');
        },
      });
      const response = await post(app, { model: 'm', messages: ask('Hi') });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual(SERVER_ERROR);
      const streamed = await post(app, { model: 'm', messages: ask('Hi'), stream: true });
      expect(streamed.status).toBe(500);
      expect(await streamed.json()).toEqual(SERVER_ERROR);
    });

    it('should not call a rail violation an error', async () => {
      const onError = jest.fn();
      const app = await createApp({ configDir: CONFIGS, onError });
      expect((await post(app, { model: 'm', messages: ask('password?'), config_id: 'strict' })).status).toBe(200);
      expect(framesOf(await (await post(app, { model: 'm', messages: ask('password?'), config_id: 'strict', stream: true })).text()).at(-1)).toBe('data: [DONE]');
      expect(onError).not.toHaveBeenCalled();
    });

    it('should answer a provider failure with a 502 naming it, not as an error', async () => {
      const onError = jest.fn();
      const failing = scriptedModel([new ProviderError({ provider: 'openai', status: 500, type: 'server_error', during: 'request', detail: 'overloaded' })]);
      const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: failing }, onError });
      const response = await post(app, { model: 'm', messages: ask('Hi') });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        error: { message: 'The model provider failed: openai: HTTP 500 server_error: overloaded', type: 'server_error', param: null, code: null },
      });
      expect(onError).not.toHaveBeenCalled();
    });

    describe('without onError', () => {
      let consoleError: jest.SpiedFunction<typeof console.error>;
      beforeEach(() => {
        consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      });
      afterEach(() => consoleError.mockRestore());

      it('should log them with console.error', async () => {
        const app = await createApp({ configDir: CONFIGS, defaultConfigId: 'support', models: { main: broken() } });
        const response = await post(app, { model: 'm', messages: ask('Hi') });
        expect(response.status).toBe(500);
        expect(consoleError).toHaveBeenCalledTimes(1);
        expect(consoleError).toHaveBeenCalledWith(expect.stringMatching(/^request chatcmpl-.+:$/), failure);
        expect(consoleError.mock.calls[0]![1]).toBe(failure);
      });
    });
  });
});
