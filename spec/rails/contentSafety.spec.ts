// The content-safety rails (NeMo's content_safety_check_input / _output actions): what the judge is asked, with which
// parameters, and how its answer decides. NeMo's scenarios from tests/test_content_safety_actions.py and
// tests/test_content_safety_integration.py, with scripted judges.
import { firstValueFrom, type Observable } from 'rxjs';
import { InvalidOptionError, type RailDecision, UsageTracker } from 'rxguardrails';
import { CONTENT_SAFETY_TEMPERATURE, contentSafetyCheckInput, contentSafetyCheckOutput } from '../../lib/rails/contentSafety.js';
import { railContext, recordingJudge } from '../support/judges.js';

const check = (rail: ReturnType<typeof contentSafetyCheckOutput>, text: string, userMessage?: string) =>
  firstValueFrom(rail.check(text, railContext(userMessage)) as Observable<RailDecision>);

const OUTPUT_PROMPT = 'user: {{ user_input }}\nresponse: agent: {{ bot_response }}\n{% if reasoning_enabled %}/think{% else %}/no_think{% endif %}';

describe('contentSafetyCheckOutput / contentSafetyCheckInput', () => {
  it("should ask the judge with the prompt rendered from the user's message and the window, as one user message", async () => {
    const judge = recordingJudge(['{"Response Safety": "safe"}']);
    const rail = contentSafetyCheckOutput({ model: judge.model, prompt: OUTPUT_PROMPT, outputParser: 'nemoguard_parse_response_safety' });
    expect(await check(rail, 'Here is a cake recipe.', 'How do I bake a cake?')).toEqual({ allowed: true, reason: 'the judge answered "{\\"Response Safety\\": \\"safe\\"}"' });
    expect(judge.calls.map((call) => call.messages)).toEqual([[{ role: 'user', content: 'user: How do I bake a cake?\nresponse: agent: Here is a cake recipe.\n/no_think' }]]);
  });

  it('should render reasoning_enabled, for templates that switch /think on', async () => {
    const judge = recordingJudge(['safe']);
    const rail = contentSafetyCheckOutput({ model: judge.model, prompt: OUTPUT_PROMPT, reasoningEnabled: true });
    await check(rail, 'text', 'question');
    expect(judge.calls[0]!.messages[0]!.content).toMatch(/\/think$/);
  });

  it('should render the input prompt from the message checked', async () => {
    const judge = recordingJudge(['{"User Safety": "safe"}']);
    const rail = contentSafetyCheckInput({ model: judge.model, prompt: 'Is this safe? {{ user_input }}', outputParser: 'nemoguard_parse_prompt_safety' });
    expect((await check(rail, 'How do I bake a cake?')).allowed).toBe(true);
    expect(judge.calls[0]!.messages).toEqual([{ role: 'user', content: 'Is this safe? How do I bake a cake?' }]);
  });

  it("should ask at NeMo's temperature (1e-20, not lowest_temperature), max_tokens 3 by default, and the prompt's stop", async () => {
    const judge = recordingJudge(['safe']);
    await check(contentSafetyCheckOutput({ model: judge.model, prompt: 'x', stop: ['<|eot_id|>'] }), 'text');
    expect(judge.calls[0]!.options).toEqual(expect.objectContaining({ temperature: 1e-20, max_tokens: 3, stop: ['<|eot_id|>'], task: 'content_safety_check_output' }));
    expect(CONTENT_SAFETY_TEMPERATURE).toBe(1e-20);
  });

  it("should send the prompt's max_tokens, and no stop when the prompt has none", async () => {
    const judge = recordingJudge(['safe']);
    await check(contentSafetyCheckInput({ model: judge.model, prompt: 'x', maxTokens: 50 }), 'text');
    expect(judge.calls[0]!.options.max_tokens).toBe(50);
    expect('stop' in judge.calls[0]!.options).toBe(false);
  });

  it('should block with the categories the judge named, in details.policyViolations', async () => {
    const judge = recordingJudge(['{"User Safety": "safe", "Response Safety": "unsafe", "Safety Categories": "S1: Violence, S17: Malware"}']);
    const rail = contentSafetyCheckOutput({ model: judge.model, prompt: 'x', outputParser: 'nemoguard_parse_response_safety' });
    expect(await check(rail, 'text')).toEqual(expect.objectContaining({ allowed: false, details: { policyViolations: ['S1: Violence', 'S17: Malware'] } }));
  });

  it('should read the answer with is_content_safe when no parser is named (Llama Guard: unsafe + categories)', async () => {
    const rail = contentSafetyCheckInput({ model: recordingJudge(['unsafe\nS1,S10']).model, prompt: 'x' });
    expect(await check(rail, 'text')).toEqual(expect.objectContaining({ allowed: false, details: { policyViolations: ['S1', 'S10'] } }));
  });

  it.each([
    ['Output JSON: {"Response Safety": "safe"}'],
    ['{"User Safety": "safe"}'],
    ['safe'],
    [''],
  ])('should fail closed on the unparseable answer %j', async (answer) => {
    const rail = contentSafetyCheckOutput({ model: recordingJudge([answer]).model, prompt: 'x', outputParser: 'nemoguard_parse_response_safety' });
    expect(await check(rail, 'text')).toEqual(expect.objectContaining({ allowed: false, details: { policyViolations: ['Failed to parse content safety model response'] } }));
  });

  it('should record its calls under its task, in its own usage and the pipeline\'s', async () => {
    const [own, pipeline] = [new UsageTracker(), new UsageTracker()];
    const rail = contentSafetyCheckOutput({ model: recordingJudge(['safe']).model, prompt: 'x', usage: own, task: 'content_safety_check_output $model=shieldgemma' });
    await firstValueFrom(rail.check('text', { ...railContext(), usage: pipeline }) as Observable<RailDecision>);
    expect(own.snapshot().calls).toEqual([expect.objectContaining({ task: 'content_safety_check_output $model=shieldgemma' })]);
    expect(pipeline.snapshot().calls).toEqual(own.snapshot().calls);
  });

  it('should be named after the flow unless told otherwise', () => {
    expect(contentSafetyCheckInput({ model: recordingJudge(['safe']).model, prompt: 'x' }).name).toBe('content safety check input');
    expect(contentSafetyCheckOutput({ model: recordingJudge(['safe']).model, prompt: 'x', name: 'content safety check output $model=cs' }).name).toBe('content safety check output $model=cs');
  });

  const model = recordingJudge(['safe']).model;
  it.each([
    ['an unknown parser', () => contentSafetyCheckOutput({ model, prompt: 'x', outputParser: 'json' }), 'contentSafetyCheckOutput: outputParser must be one of is_content_safe, nemoguard_parse_prompt_safety'],
    ['a prompt that is not a template', () => contentSafetyCheckInput({ model, prompt: '{{ user_input ' }), 'contentSafetyCheckInput: the prompt is not a valid Jinja template'],
    [
      "a filter only NeMo has (it fails every check otherwise)",
      () => contentSafetyCheckInput({ model, prompt: [{ role: 'system', content: 'Policy' }, { role: 'user', content: '{{ history | user_assistant_sequence }}' }] }),
      "contentSafetyCheckInput: the prompt uses the filter 'user_assistant_sequence', which rxguardrails' templates do not have",
    ],
    ['maxTokens 0', () => contentSafetyCheckInput({ model, prompt: 'x', maxTokens: 0 }), 'contentSafetyCheckInput: maxTokens must be a positive integer, got 0'],
    ['an unknown option', () => contentSafetyCheckInput({ model, prompt: 'x', temperature: 0.5 } as never), 'contentSafetyCheckInput'],
    ['a model that is not a ChatModel', () => contentSafetyCheckInput({ model: {} as never, prompt: 'x' }), 'contentSafetyCheckInput: model must be a ChatModel'],
  ])('should throw InvalidOptionError when created with %s', (_, create, message) => {
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});
