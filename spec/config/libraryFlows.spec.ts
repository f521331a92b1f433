// Config of NeMo's library flows (content safety, topic safety, Llama Guard) and of the NeMo keys that come with them:
// load-time validation with NeMo's messages at file:line:key, output parsers by name, the content_safety settings,
// enable_rails_exceptions, the OpenAI-compatible engines, top-level streaming.
import { ConfigError, type ConfigIssue, LLMRails, RailsConfig as CoreRailsConfig } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';
import { loadFlowModules } from '../../lib/config/flows.js';
import { configErrorOf } from '../support/configErrors.js';

const folder = (name: string) => `spec/fixtures/configs-library/${name}`;

const main = { type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } };

/** The ConfigError of reading the config and building its rails. */
function loadError(content: Readonly<Record<string, unknown>>): ConfigError {
  return configErrorOf(() => new LLMRails(CoreRailsConfig.fromContent(content, { file: 'config.yml', onWarning: () => undefined })));
}

describe('config of the NeMo library flows', () => {
  it('should report every problem of the flows at its file, line and key, with NeMo\'s messages', async () => {
    const error = await RailsConfig.fromPath(folder('load-errors')).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    const file = `${folder('load-errors')}/config.yml`;
    expect((error as ConfigError).issues.map((issue) => `${issue.file}:${issue.line}:${issue.column}: ${issue.key}: ${issue.message}`)).toEqual([
      `${file}:9:9: rails.input.flows[0]: Missing a \`content_safety_check_input $model=content_safety\` prompt template, which is required for the \`content safety check input\` rail.`,
      `${file}:10:9: rails.input.flows[1]: flow 'topic safety check input' needs its judge's model type: 'topic safety check input $model=<type>', the type of a models entry`,
      `${file}:18:20: prompts[0].output_parser: unknown output parser 'nemoguard_parse_json' for the 'content safety check output' rail; use one of is_content_safe, nemoguard_parse_prompt_safety, nemoguard_parse_response_safety, nemotron_reasoning_parse_prompt_safety, nemotron_reasoning_parse_response_safety, nemotron_content_safety_parse_prompt_safety, nemotron_content_safety_parse_response_safety`,
      `${file}:14:9: rails.output.flows[1]: Missing a \`llama_guard_check_output\` prompt template, which is required for the \`llama guard check output\` rail.`,
      `${file}:21:20: prompts[1].output_parser: unknown output parser 'guess_what'; NeMo's are user_intent, bot_intent, bot_message, verbose_v1, parse_tool_safety_verdict, is_content_safe, nemoguard_parse_prompt_safety, nemoguard_parse_response_safety, nemotron_reasoning_parse_prompt_safety, nemotron_reasoning_parse_response_safety, nemotron_content_safety_parse_prompt_safety, nemotron_content_safety_parse_response_safety`,
    ]);
  });

  it("should report a $model= type no models entry has with NeMo's message, at the flow, when the rails are built", async () => {
    const config = await RailsConfig.fromPath(folder('missing-model'));
    expect(() => new LLMRails(config)).toThrow(
      `${folder('missing-model')}/config.yml:12:9: rails.output.flows[0]: Output flow 'content safety check output' references model type 'content_safety' that is not defined in the configuration. Detected model types: 'main', 'topic_control'.`,
    );
  });

  it('should take the judge type from LLMRails({ models }) too', async () => {
    const config = await RailsConfig.fromPath(folder('missing-model'));
    const { scriptedModel } = await import('rxguardrails');
    expect(() => new LLMRails(config, { models: { content_safety: scriptedModel(['{"Response Safety": "safe"}']) } })).not.toThrow();
  });

  it("should refuse at load a prompt using one of NeMo's own filters, at the prompt's key (it would fail every check)", async () => {
    await loadFlowModules();
    const error = loadError({
      models: [main, { type: 'content_safety', engine: 'scripted', parameters: { responses: ['safe'] } }],
      rails: { input: { flows: ['content safety check input $model=content_safety'] } },
      prompts: [{ task: 'content_safety_check_input $model=content_safety', content: 'Conversation: {{ history | user_assistant_sequence }} Now: {{ user_input }}' }],
    });
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'prompts[0].content',
        message: expect.stringMatching(/^the prompt uses the filter 'user_assistant_sequence', which rxguardrails' templates do not have/),
      }),
    ]);
  });

  it('should not fall back to the main model for a library flow (NeMo asks the $model= type only)', () => {
    const error = loadError({
      models: [main],
      rails: { input: { flows: ['topic safety check input $model=topic_control'] } },
      prompts: [{ task: 'topic_safety_check_input $model=topic_control', content: 'Books only.' }],
    });
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'rails.input.flows[0]',
        message: "Input flow 'topic safety check input' references model type 'topic_control' that is not defined in the configuration. Detected model types: 'main'.",
      }),
    ]);
  });

  it.each([
    ['content safety check output $model=content_safety', 'input', 'output'],
    ['content safety check input $model=content_safety', 'output', 'input'],
    ['topic safety check input $model=topic_control', 'output', 'input'],
    ['self check output', 'input', 'output'],
    ['llama guard check input', 'output', 'input'],
  ])("should refuse '%s' among the %s flows: NeMo defines it for the %s side", (flow, side, own) => {
    const error = loadError({ models: [main], rails: { [side]: { flows: [flow] } }, prompts: [] });
    expect(error.issues).toEqual([
      expect.objectContaining({ key: `rails.${side}.flows[0]`, message: expect.stringContaining(`is an ${own} rail in NeMo: list it under rails.${own}.flows`) }),
    ]);
  });

  it('should find the Llama Guard judge by the type llama_guard', () => {
    const error = loadError({
      models: [main],
      rails: { input: { flows: ['llama guard check input'] } },
      prompts: [{ task: 'llama_guard_check_input', content: '{{ user_input }}' }],
    });
    expect(error.issues[0]!.message).toContain("references model type 'llama_guard'");
  });

  it('should warn, at the prompt, when a content-safety prompt names no output_parser, and read its judge with is_content_safe', () => {
    const warnings: ConfigIssue[] = [];
    const config = CoreRailsConfig.fromContent(
      {
        models: [main, { type: 'shieldgemma', engine: 'scripted', parameters: { responses: ['No'] } }],
        rails: { input: { flows: ['content safety check input $model=shieldgemma'] } },
        prompts: [{ task: 'content_safety_check_input $model=shieldgemma', content: 'Is this harmful? {{ user_input }}' }],
      },
      { onWarning: (warning) => warnings.push(warning) },
    );
    expect(warnings).toEqual([
      expect.objectContaining({
        key: 'prompts[0].task',
        message:
          "no output_parser: the judge of 'content safety check input $model=shieldgemma' is read with is_content_safe (NeMo would pass the raw answer on, which fails open); name one, e.g. output_parser: is_content_safe",
      }),
    ]);
    expect(config.warnings).toEqual(warnings);
  });

  it("should accept NeMo's dialog parsers on prompts no flow reads, without a warning", () => {
    const warnings: ConfigIssue[] = [];
    CoreRailsConfig.fromContent({ models: [main], prompts: [{ task: 'generate_user_intent', content: 'x', output_parser: 'verbose_v1' }] }, { onWarning: (warning) => warnings.push(warning) });
    expect(warnings).toEqual([]);
  });

  it('should read rails.config.content_safety and enable_rails_exceptions without warnings', () => {
    const warnings: ConfigIssue[] = [];
    const config = CoreRailsConfig.fromContent(
      `
models: [{ type: main, engine: scripted, parameters: { responses: [Hi] } }]
enable_rails_exceptions: True
rails:
  config:
    content_safety:
      multilingual: { enabled: True, refusal_messages: { es: "No puedo." } }
      reasoning: { enabled: True }
`,
      { onWarning: (warning) => warnings.push(warning) },
    );
    expect(warnings).toEqual([]);
    expect(config.data.enable_rails_exceptions).toBe(true);
    expect(config.data.rails.config.content_safety).toEqual({ multilingual: { enabled: true, refusal_messages: { es: 'No puedo.' } }, reasoning: { enabled: true } });
  });

  describe('engines', () => {
    it.each(['nim', 'nvidia_ai_endpoints', 'vllm_openai', 'openai'])('should accept engine %s with its server in parameters.base_url', (engine) => {
      const config = CoreRailsConfig.fromContent({ models: [{ type: 'content_safety', engine, model: 'nvidia/llama-3.1-nemoguard-8b-content-safety', parameters: { base_url: 'http://127.0.0.1:8123/v1' } }] });
      expect(config.model('content_safety')).toEqual(expect.objectContaining({ engine, parameters: { base_url: 'http://127.0.0.1:8123/v1' } }));
    });

    it('should accept vllm_openai with its LangChain-era keys (openai_api_base, model_name)', () => {
      const config = CoreRailsConfig.fromContent({ models: [{ type: 'llama_guard', engine: 'vllm_openai', parameters: { openai_api_base: 'http://127.0.0.1:5123/v1', model_name: 'meta-llama/LlamaGuard-7b' } }] });
      expect(config.model('llama_guard')?.engine).toBe('vllm_openai');
    });

    it('should refuse vllm_openai without its server', () => {
      expect(() => CoreRailsConfig.fromContent({ models: [{ type: 'llama_guard', engine: 'vllm_openai', model: 'meta-llama/LlamaGuard-7b' }] })).toThrow(
        'models[0].parameters: engine vllm_openai needs its server: parameters.openai_api_base (or base_url)',
      );
    });
  });

  describe('top-level streaming (deprecated in NeMo v0.20, whose configs omit it)', () => {
    it.each([
      [{}, true],
      [{ streaming: true }, true],
      [{ streaming: false }, false],
    ])('%j should stream the main model: %s', (content, streams) => {
      expect(CoreRailsConfig.fromContent({ models: [main], ...content }).streaming).toBe(streams);
    });
  });
});
