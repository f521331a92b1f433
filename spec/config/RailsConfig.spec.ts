import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type ConfigIssue, LLMRails, RailsConfig as CoreRailsConfig } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';
import { configJsonSchema } from '../../lib/config/configJsonSchema.js';

const root = resolve(__dirname, '../..');
const folder = (name: string) => `spec/fixtures/configs/${name}`;

async function loadError(name: string): Promise<ConfigError> {
  try {
    new LLMRails(await RailsConfig.fromPath(folder(name)));
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`${name} loaded without an error`);
}

describe('RailsConfig', () => {
  describe('fromContent', () => {
    it("should read NeMo's keys, Python-style booleans included, and apply NeMo's defaults", () => {
      const config = CoreRailsConfig.fromContent(`
models:
  - type: main
    engine: openai
    model: gpt-4o-mini
    parameters: { temperature: 0.2 }
streaming: True
rails:
  output:
    flows: [keyword check]
    streaming:
      enabled: True
  config:
    keyword_check: { keywords: [password] }
`);
      expect(config.streaming).toBe(true);
      expect(config.model('main')).toEqual({ type: 'main', engine: 'openai', model: 'gpt-4o-mini', parameters: { temperature: 0.2 } });
      expect(config.data.rails.output).toEqual({
        flows: ['keyword check'],
        parallel: false,
        check_timeout_ms: 30_000,
        streaming: { enabled: true, chunk_size: 200, context_size: 50, stream_first: true, concurrency: 1, on_violation: 'error' },
      });
      expect(config.data.rails.input).toEqual({ flows: [], parallel: false, check_timeout_ms: 30_000 });
      expect(config.data.lowest_temperature).toBe(0.001);
      expect(config.warnings).toEqual([]);
    });

    // zod/mini has no English messages of its own ("Invalid input"): every check of the schema says its own.
    it.each([
      ['rails:\n  output:\n    streaming:\n      on_violation: explode\n', "<content>:4:21: rails.output.streaming.on_violation: must be one of 'error', 'chunk', 'replace'"],
      ['models:\n  - engine: openai\n    model: m\n    mode: poem\n', "<content>:4:11: models[0].mode: must be 'chat' or 'text'"],
      ['models:\n  - engine: openai\n    model: m\n    api: soap\n', "<content>:4:10: models[0].api: must be 'chat' or 'responses'"],
      ['streaming: yes please\n', '<content>:1:12: streaming: expected a boolean'],
      ['rails:\n  output:\n    streaming:\n      chunk_size: 1.5\n', '<content>:4:19: rails.output.streaming.chunk_size: must be an integer'],
      ['prompts:\n  - task: x\n    messages: []\n', '<content>:3:15: prompts[0].messages: needs at least one message'],
      ['lowest_temperature: hot\n', '<content>:1:21: lowest_temperature: expected a number'],
      ['models: {}\n', '<content>:1:9: models: expected a list'],
    ])('should word every problem, never "Invalid input" (%j)', (yaml, message) => {
      expect(() => CoreRailsConfig.fromContent(yaml)).toThrow(message);
    });

    it('should word every problem of any value at any key (property: no "Invalid input")', () => {
      const at = (path: readonly string[], value: unknown): Record<string, unknown> =>
        path.length === 0 ? (value as Record<string, unknown>) : { [path[0]!]: at(path.slice(1), value) };
      const paths = [
        ['streaming'], ['lowest_temperature'], ['models'], ['prompts'], ['upstream'], ['upstream', 'timeout_ms'], ['rails'], ['rails', 'input'],
        ['rails', 'input', 'flows'], ['rails', 'input', 'check_timeout_ms'], ['rails', 'output', 'parallel'], ['rails', 'output', 'streaming'],
        ['rails', 'output', 'streaming', 'chunk_size'], ['rails', 'output', 'streaming', 'on_violation'], ['rails', 'config', 'keyword_check'],
        ['rails', 'config', 'regex_check', 'patterns'],
      ];
      fc.assert(
        fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
          try {
            // Unknown keys only warn; the property is about the errors.
            CoreRailsConfig.fromContent(at(path, value), { onWarning: () => undefined });
          } catch (error) {
            if (!ConfigError.isInstance(error)) throw error;
            expect(error.message).not.toContain('Invalid input');
          }
        }),
        { numRuns: 500 },
      );
    });

    it('should refuse a YAML alias bomb (billion laughs) with a ConfigError naming the file', () => {
      const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
      for (const name of 'bcdefghi') levels.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`).join(', ')}]`);
      const load = () => CoreRailsConfig.fromContent(levels.join('\n'));
      expect(load).toThrow(ConfigError);
      expect(load).toThrow("<content>: the file's aliases expand too far to be read (Excessive alias count indicates a resource exhaustion attack)");
    });

    it('should take an object as well as YAML text', () => {
      const config = CoreRailsConfig.fromContent({ models: [{ engine: 'scripted', parameters: { responses: ['Hi'] } }] });
      expect(config.model('main')).toEqual({ type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } });
      expect(config.files).toEqual(['<object>']);
    });

    it('should name the content and place errors in it', () => {
      const create = () => CoreRailsConfig.fromContent('rails:\n  output:\n    streaming:\n      chunk_size: -4\n', { file: 'inline.yml' });
      expect(create).toThrow(ConfigError);
      expect(create).toThrow('inline.yml:4:19: rails.output.streaming.chunk_size: must be at least 1');
    });

    it('should report every problem at once, each with its place', () => {
      let error: unknown;
      try {
        CoreRailsConfig.fromContent('models:\n  - engine: openai\nstreaming: yes please\nprompts:\n  - task: self_check_output\n', { file: 'config.yml' });
      } catch (caught) {
        error = caught;
      }
      expect((error as ConfigError).issues).toEqual([
        { file: 'config.yml', line: 2, column: 5, key: 'models[0].model', message: 'engine openai needs a model id (model: ...)' },
        { file: 'config.yml', line: 3, column: 12, key: 'streaming', message: 'expected a boolean' },
        { file: 'config.yml', line: 5, column: 5, key: 'prompts[0].content', message: 'a prompt needs exactly one of content or messages' },
      ]);
    });

    it('should reject a root that is not a mapping', () => {
      expect(() => CoreRailsConfig.fromContent('- just\n- a list\n', { file: 'config.yml' })).toThrow(
        'config.yml:1:1: the file must hold a mapping of keys (models, rails, prompts, ...)',
      );
    });

    it('should need a model id for provider engines, once, and responses for the scripted one', () => {
      expect(() => CoreRailsConfig.fromContent('models:\n  - engine: anthropic\n    model: a\n    parameters: { model: b }\n', { file: 'c.yml' })).toThrow(
        'c.yml:3:12: models[0].model: give the model id once: in model or in parameters.model, not both',
      );
      expect(() => CoreRailsConfig.fromContent('models:\n  - engine: scripted\n', { file: 'c.yml' })).toThrow(
        'c.yml:2:5: models[0].parameters.responses: engine scripted needs parameters.responses: a non-empty list of answers',
      );
    });
  });

  describe('models, by engine', () => {
    it("should check an anthropic entry's max_tokens, which the Messages API requires", () => {
      expect(() => CoreRailsConfig.fromContent('models:\n  - engine: anthropic\n    model: claude\n    parameters: { max_tokens: many }\n', { file: 'c.yml' })).toThrow(
        'c.yml:4:31: models[0].parameters.max_tokens: expected a number',
      );
    });

    it('should warn about a key another engine has (api is for openai only) and load the rest', () => {
      const warnings: ConfigIssue[] = [];
      const config = CoreRailsConfig.fromContent('models:\n  - engine: anthropic\n    model: claude\n    api: responses\n', { file: 'c.yml', onWarning: (warning) => warnings.push(warning) });
      expect(warnings).toEqual([{ file: 'c.yml', line: 4, column: 5, key: 'models[0].api', message: 'unknown key, ignored' }]);
      expect(config.model('main')).toEqual({ type: 'main', engine: 'anthropic', model: 'claude', parameters: {} });
    });

    it("should check a scripted entry's delay_ms", () => {
      expect(() => CoreRailsConfig.fromContent('models:\n  - engine: scripted\n    parameters: { responses: [Hi], delay_ms: -1 }\n', { file: 'c.yml' })).toThrow(
        'c.yml:3:46: models[0].parameters.delay_ms: must be a number of milliseconds, at least 0',
      );
    });
  });

  describe('config errors, one fixture folder per kind (file, line, column and key)', () => {
    it.each([
      ['yaml-syntax', 'config.yml:9:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]', undefined],
      ['wrong-type', 'config.yml:8:15: rails.output.parallel: expected a boolean', 'rails.output.parallel'],
      ['unknown-engine', 'config.yml:3:13: models[0].engine: unknown engine "cohere"; use one of openai, nim, nvidia_ai_endpoints, vllm_openai, anthropic, scripted', 'models[0].engine'],
      ['chunk-size-zero', 'config.yml:12:19: rails.output.streaming.chunk_size: must be at least 1', 'rails.output.streaming.chunk_size'],
      ['context-not-smaller', 'config.yml:13:21: rails.output.streaming.context_size: must be less than chunk_size (20), got 20', 'rails.output.streaming.context_size'],
      [
        'missing-prompt',
        "config.yml:9:9: rails.output.flows[0]: You must provide a `self_check_output` prompt template. (flow 'self check output' needs a prompt with task: self_check_output)",
        'rails.output.flows[0]',
      ],
      [
        'unknown-flow',
        "config.yml:10:9: rails.output.flows[1]: unknown flow 'check facts': rxguardrails knows 'self check input', 'self check output', 'keyword check', 'regex check', 'content safety check input', 'content safety check output', 'topic safety check input', 'llama guard check input', 'llama guard check output', 'jailbreak detection model', 'jailbreak detection heuristics', 'injection detection', 'detect sensitive data on input', 'detect sensitive data on output', 'mask sensitive data on input' and 'mask sensitive data on output'; export a rail of that name from rails.js, or pass it in LLMRails({ rails })",
        'rails.output.flows[1]',
      ],
      ['multi-file-error', 'prompts.yml:6:17: prompts[1].max_tokens: must be a positive integer', 'prompts[1].max_tokens'],
    ])('should place the error of %s', async (name, message, key) => {
      const error = await loadError(name);
      expect(error.message).toBe(`${folder(name)}/${message}`);
      const [, file, line, column] = /^(.+?):(\d+):(\d+):/.exec(message)!;
      expect({ file: error.file, line: error.line, column: error.column, key: error.key }).toEqual({
        file: `${folder(name)}/${file}`,
        line: Number(line),
        column: Number(column),
        key,
      });
    });

    it('should refuse a first_chunk_size outside (context_size, chunk_size], at its key', () => {
      const load = (first: number) =>
        CoreRailsConfig.fromContent(
          { models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['x'] } }], rails: { output: { flows: [], streaming: { enabled: true, chunk_size: 10, context_size: 3, first_chunk_size: first } } } },
          { file: 'config.yml' },
        );
      expect(() => load(3)).toThrow('config.yml: rails.output.streaming.first_chunk_size: must be more than context_size and at most chunk_size (from 4 to 10), got 3');
      expect(() => load(11)).toThrow('must be more than context_size and at most chunk_size (from 4 to 10), got 11');
      expect(load(4).data.rails.output.streaming.first_chunk_size).toBe(4);
    });

    it('should warn about unknown keys, say where, hint at old names, and load the rest', async () => {
      const warnings: ConfigIssue[] = [];
      const config = await RailsConfig.fromPath(folder('unknown-keys'), { onWarning: (warning) => warnings.push(warning) });
      const file = `${folder('unknown-keys')}/config.yml`;
      expect(warnings).toEqual([
        { file, line: 14, column: 7, key: 'rails.output.streaming.window_size', message: 'unknown key, ignored (did you mean chunk_size (its name before NeMo v0.12)?)' },
        { file, line: 18, column: 7, key: 'rails.config.keyword_check.ignore_case', message: 'unknown key, ignored' },
        { file, line: 6, column: 1, key: 'instructions', message: 'unknown key, ignored (a NeMo Guardrails setting rxguardrails does not use)' },
      ]);
      expect(config.warnings).toEqual(warnings);
      expect(config.data.rails.config.keyword_check).toEqual({ keywords: ['password'], case_sensitive: false, word_boundary: false });
    });

    it('should print warnings to the console unless told where to send them', () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        CoreRailsConfig.fromContent('colang_version: "2.x"\n', { file: 'config.yml' });
        expect(warn).toHaveBeenCalledWith('rxguardrails: config.yml:1:1: colang_version: unknown key, ignored (a NeMo Guardrails setting rxguardrails does not use)');
      } finally {
        warn.mockRestore();
      }
    });

    it('should say when the folder does not exist or holds no YAML', async () => {
      await expect(RailsConfig.fromPath('spec/fixtures/configs/nowhere')).rejects.toThrow('spec/fixtures/configs/nowhere: no such config folder or file');
      await expect(RailsConfig.fromPath('spec/fixtures/sse')).rejects.toThrow('spec/fixtures/sse: no .yml or .yaml file in the config folder');
    });
  });

  describe('folders', () => {
    it("should merge a folder's YAML files by NeMo's rules: lists concatenated, config.yml first", async () => {
      const config = await RailsConfig.fromPath(folder('multi-file'));
      expect(config.files).toEqual(['config.yml', 'extra/judge.yml', 'prompts.yml'].map((file) => `${folder('multi-file')}/${file}`));
      expect(config.models.map((model) => model.type)).toEqual(['main', 'self_check_output']);
      expect(config.prompt('self_check_output')?.content).toContain('{{ bot_response }}');
      expect(config.data.rails.output.streaming).toEqual(expect.objectContaining({ enabled: true, chunk_size: 10, context_size: 2 }));
    });

    it('should read a single YAML file when given one', async () => {
      const config = await RailsConfig.fromPath(`${folder('multi-file-error')}/config.yml`);
      expect(config.files).toEqual([`${folder('multi-file-error')}/config.yml`]);
      expect(config.data.prompts).toEqual([]);
    });

    // rails.mjs is an ES module: loaded by the built package in a real Node process, through both builds.
    it.each([
      ['import', ['--input-type=module', '-e']],
      ['require', ['-e']],
    ])("should load a folder's rails.mjs custom rails (%s)", (kind, args) => {
      const load =
        kind === 'import'
          ? "const { RailsConfig } = await import('rxguardrails/node'); const { LLMRails } = await import('rxguardrails');"
          : "const { RailsConfig } = require('rxguardrails/node'); const { LLMRails } = require('rxguardrails');";
      const script = `(async () => { ${load}
        const rails = new LLMRails(await RailsConfig.fromPath('${folder('custom-rails')}'));
        const run = async () => {
          const tokens = [];
          try { for await (const token of rails.streamAsync([{ role: 'user', content: 'code?' }])) tokens.push(token); } catch (caught) { tokens.push('error: ' + caught.message); }
          return tokens;
        };
        console.log(JSON.stringify({ first: await run(), second: await run() }));
      })().catch((error) => { console.log(JSON.stringify({ failed: error.message })); });`;
      const output = execFileSync(process.execPath, [...args, script], { cwd: root, encoding: 'utf8' });
      // Answers in turn: "The code is 1234." is blocked in its final window "is 1234."; "No digits here." passes.
      expect(JSON.parse(output)).toEqual({
        first: ['The ', 'code ', 'is ', '1234.', 'error: Blocked by no digits rails.'],
        second: ['No ', 'digits ', 'here.'],
      });
    });

    it('should name rails.mjs when what it exports is not a rail', () => {
      const script = `import('rxguardrails/node').then(({ RailsConfig }) => RailsConfig.fromPath('${folder('bad-rails-module')}')).then(() => console.log('loaded'), (error) => console.log(error.message));`;
      expect(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }).trim()).toBe(
        `${folder('bad-rails-module')}/rails.mjs: broken rail: must be a rail ({ name, check }) or a check function`,
      );
    });
  });

  it('should keep config.schema.json in step with the schema (npm run schema)', () => {
    expect(readFileSync(resolve(root, 'config.schema.json'), 'utf8')).toBe(configJsonSchema());
  });
});

describe('RailsConfig.prompt', () => {
  it("should still find a task's prompt when no prompt's models list names the model, as NeMo does (the later one)", () => {
    const config = CoreRailsConfig.fromContent({
      models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } }],
      prompts: [
        { task: 'self_check_input', models: ['nim/one'], content: 'first {{ user_input }}' },
        { task: 'self_check_input', models: ['nim/two'], content: 'second {{ user_input }}' },
      ],
    });
    expect(config.prompt('self_check_input', config.model('main'))?.content).toBe('second {{ user_input }}');
  });
});
