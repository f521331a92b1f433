// The flow registry (lib/config/flows.ts) is what config validation, the LLMRails rail plan and the activated-rails
// log read: each built-in flow's kind, the config it needs and how its rail is built.
import { BUILT_IN_FLOWS, ConfigError, LLMRails, RailsConfig, scriptedModel } from 'rxguardrails';

function loadError(content: Readonly<Record<string, unknown>>, withRails = false): ConfigError {
  try {
    const config = RailsConfig.fromContent(content, { file: 'config.yml' });
    if (withRails) new LLMRails(config);
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('loaded without an error');
}

const main = { type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } };

describe('the flow registry', () => {
  it("should list NeMo's flow names rxguardrails builds itself", () => {
    expect([...BUILT_IN_FLOWS].sort()).toEqual([
      'content safety check input',
      'content safety check output',
      'detect sensitive data on input',
      'detect sensitive data on output',
      'injection detection',
      'jailbreak detection heuristics',
      'jailbreak detection model',
      'keyword check',
      'llama guard check input',
      'llama guard check output',
      'mask sensitive data on input',
      'mask sensitive data on output',
      'regex check',
      'self check input',
      'self check output',
      'topic safety check input',
    ]);
  });

  it('should name every built-in flow when a flow is unknown', () => {
    const error = loadError({ models: [main], rails: { output: { flows: ['check facts'] } } }, true);
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'rails.output.flows[0]',
        message: `unknown flow 'check facts': rxguardrails knows 'self check input', 'self check output', 'keyword check', 'regex check', 'content safety check input', 'content safety check output', 'topic safety check input', 'llama guard check input', 'llama guard check output', 'jailbreak detection model', 'jailbreak detection heuristics', 'injection detection', 'detect sensitive data on input', 'detect sensitive data on output', 'mask sensitive data on input' and 'mask sensitive data on output'; export a rail of that name from rails.js, or pass it in LLMRails({ rails })`,
      }),
    ]);
  });

  it('should refuse a $parameter on a flow that takes none, at load', () => {
    const error = loadError({
      models: [main],
      rails: { output: { flows: ['keyword check $model=content_safety'] }, config: { keyword_check: { keywords: ['x'] } } },
    });
    expect(error.issues).toEqual([expect.objectContaining({ key: 'rails.output.flows[0]', message: "flow 'keyword check' takes no parameters, got $model" })]);
  });

  it('should ask for the prompt of a judged flow by its task, at load', () => {
    const error = loadError({ models: [main], rails: { input: { flows: ['self check input'] } } });
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'rails.input.flows[0]',
        message: "You must provide a `self_check_input` prompt template. (flow 'self check input' needs a prompt with task: self_check_input)",
      }),
    ]);
  });

  it('should ask for the settings of a rule flow under rails.config, at load', () => {
    const error = loadError({ models: [main], rails: { output: { flows: ['regex check'] } } });
    expect(error.issues).toEqual([
      expect.objectContaining({ key: 'rails.output.flows[0]', message: "flow 'regex check' needs its patterns under rails.config.regex_check.patterns" }),
    ]);
  });

  it('should place what the rule rail rejects at its setting, at load: a pattern that does not compile', () => {
    const error = loadError({ models: [main], rails: { config: { regex_check: { patterns: ['ok', '(unclosed'] } } } });
    expect(error.issues).toEqual([
      expect.objectContaining({ key: 'rails.config.regex_check.patterns[1]', message: expect.stringMatching(/^not a valid regular expression: Invalid regular expression/) }),
    ]);
  });

  it('should place what the rule rail rejects at its setting, at load: a pattern matching the empty string', () => {
    const error = loadError({ models: [main], rails: { config: { regex_check: { patterns: ['a*'] } } } });
    expect(error.issues).toEqual([
      expect.objectContaining({ key: 'rails.config.regex_check.patterns[0]', message: '(/a*/u) matches the empty string, so it would block every window' }),
    ]);
  });

  it('should ask for a model for a judged flow when there is neither its own nor a main one', () => {
    const error = loadError(
      {
        models: [],
        rails: { output: { flows: ['self check output'], streaming: { enabled: true } } },
        prompts: [{ task: 'self_check_output', content: 'Block? {{ bot_response }}' }],
      },
      true,
    );
    expect(error.issues).toEqual([
      expect.objectContaining({ key: 'rails.output.flows[0]', message: "flow 'self check output' needs a model: add a models entry of type main or self_check_output" }),
    ]);
  });

  it("should record a judged flow's LLM calls under its task in the activated-rails log", async () => {
    const rails = new LLMRails(
      RailsConfig.fromContent({
        models: [main],
        rails: { input: { flows: ['self check input'] } },
        prompts: [{ task: 'self_check_input', content: 'Block? {{ user_input }}' }],
      }),
      { models: { self_check_input: scriptedModel(['No']) } },
    );
    const response = await rails.generate([{ role: 'user', content: 'Hello' }], { options: { log: { activatedRails: true } } });
    expect(response.log?.activatedRails).toEqual([
      expect.objectContaining({ name: 'self check input', decisions: ['allowed: the judge answered "No"'], llmCalls: [expect.objectContaining({ task: 'self_check_input' })] }),
    ]);
  });
});

describe('rule rails', () => {
  it('should be built once per config: at load, and then taken by every LLMRails of it', () => {
    const config = RailsConfig.fromContent({
      models: [main],
      rails: { output: { flows: ['keyword check'], streaming: { enabled: true } }, config: { keyword_check: { keywords: ['secret'] } } },
    });
    // The plan is private: read here because "built once" shows nowhere else (but in the time a huge list takes).
    const railOf = (rails: LLMRails) => (rails as unknown as { plan: { output: { guard: { check: { rails: readonly object[] } } } } }).plan.output.guard.check.rails[0];
    const first = railOf(new LLMRails(config));
    expect(first).toEqual(expect.objectContaining({ name: 'keyword check' }));
    expect(railOf(new LLMRails(config))).toBe(first);
  });
});
