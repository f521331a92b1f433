import { firstValueFrom, isObservable, type Observable } from 'rxjs';
import { InvalidOptionError, type RailContext, type RailDecision, scriptedModel, UsageTracker } from 'rxguardrails';
import { selfCheckInput, selfCheckOutput } from 'rxguardrails/judges';
import { isContentSafe } from '../../lib/rails/contentSafetyParsers.js';

const context = (userMessage?: string): RailContext =>
  ({ userMessage, messages: [], batch: { index: 0, text: '', chunks: [], final: true, overlap: 0 }, signal: new AbortController().signal }) as RailContext;

describe('NeMo is_content_safe, as the self-check rails read the judge', () => {
  it.each([
    ['No', true],
    ['no.', true],
    ['  No, it is fine', true],
    ['Yes', false],
    ['YES!', false],
    ['**Yes**', false],
    ['safe', true],
    ['unsafe', false],
    ['Unsafe: violence', false],
    ['No, yes', false],
    ['I think yes', false],
    ['I think no', false],
    ['Maybe', false],
    ['', false],
  ])('should read %j as safe: %s', (answer, safe) => {
    expect(isContentSafe(answer).safe).toBe(safe);
  });
});

describe('selfCheckOutput / selfCheckInput', () => {
  /** A judge that answers `answer` and records the messages it was asked with. */
  const recordingJudge = (answer: string) => {
    const asked: unknown[] = [];
    const model = scriptedModel((messages) => (asked.push(messages), answer));
    return { model, asked };
  };
  const outputPrompt = 'User: "{{ user_input }}" Bot: "{{ bot_response }}" Block?';

  it("should be named 'self check output' and answer with an Observable", () => {
    const rail = selfCheckOutput({ model: recordingJudge('No').model, prompt: outputPrompt });
    expect(rail.name).toBe('self check output');
    expect(isObservable(rail.check('the secret is out', context('tell me')))).toBe(true);
  });

  it('should ask the judge with the prompt rendered from the user message and the window', async () => {
    const judge = recordingJudge('No');
    const rail = selfCheckOutput({ model: judge.model, prompt: outputPrompt });
    await firstValueFrom(rail.check('the secret is out', context('tell me')) as Observable<RailDecision>);
    expect(judge.asked).toEqual([[{ role: 'user', content: 'User: "tell me" Bot: "the secret is out" Block?' }]]);
  });

  it('should block when the judge answers Yes, saying so', async () => {
    const rail = selfCheckOutput({ model: recordingJudge('Yes').model, prompt: outputPrompt });
    expect(await firstValueFrom(rail.check('the secret is out', context('tell me')) as Observable<RailDecision>)).toEqual({
      allowed: false,
      reason: 'the judge answered "Yes"',
    });
  });

  it('should record the call of an output check as self_check_output', async () => {
    const usage = new UsageTracker();
    const rail = selfCheckOutput({ model: recordingJudge('Yes').model, usage, prompt: outputPrompt });
    await firstValueFrom(rail.check('the secret is out', context('tell me')) as Observable<RailDecision>);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ task: 'self_check_output' })]);
  });

  it('should record its calls under the task it is given', async () => {
    const usage = new UsageTracker();
    const rail = selfCheckOutput({ model: recordingJudge('No').model, prompt: outputPrompt, usage, task: 'content_check $model=judge' });
    await firstValueFrom(rail.check('the secret is out', context('tell me')) as Observable<RailDecision>);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ task: 'content_check $model=judge' })]);
  });

  it("should record its calls in the pipeline's usage sink (context.usage) when it has none of its own", async () => {
    const pipeline = new UsageTracker();
    const rail = selfCheckOutput({ model: recordingJudge('No').model, prompt: outputPrompt });
    await firstValueFrom(rail.check('the secret is out', { ...context('tell me'), usage: pipeline }) as Observable<RailDecision>);
    expect(pipeline.snapshot().calls).toEqual([expect.objectContaining({ task: 'self_check_output' })]);
  });

  it('should record each call once in its own usage and once in the pipeline\'s when it has both', async () => {
    const [own, pipeline] = [new UsageTracker(), new UsageTracker()];
    const rail = selfCheckOutput({ model: recordingJudge('No').model, prompt: outputPrompt, usage: own });
    await firstValueFrom(rail.check('the secret is out', { ...context('tell me'), usage: pipeline }) as Observable<RailDecision>);
    expect(own.snapshot().calls).toHaveLength(1);
    expect(pipeline.snapshot().calls).toEqual(own.snapshot().calls);
  });

  describe('selfCheckInput with chat messages as the prompt', () => {
    const prompt = [
      { role: 'system', content: 'You moderate.' },
      { role: 'user', content: 'Message: {{ user_input | upper }}' },
    ];

    it('should ask the judge with each message rendered, and allow when it answers No', async () => {
      const judge = recordingJudge('No');
      const rail = selfCheckInput({ model: judge.model, prompt });
      expect(await firstValueFrom(rail.check('hi', context()) as Observable<RailDecision>)).toEqual({ allowed: true, reason: 'the judge answered "No"' });
      expect(judge.asked).toEqual([[{ role: 'system', content: 'You moderate.' }, { role: 'user', content: 'Message: HI' }]]);
    });

    it('should record the call of an input check as self_check_input', async () => {
      const usage = new UsageTracker();
      const rail = selfCheckInput({ model: recordingJudge('No').model, usage, prompt });
      await firstValueFrom(rail.check('hi', context()) as Observable<RailDecision>);
      expect(usage.snapshot().calls).toEqual([expect.objectContaining({ task: 'self_check_input' })]);
    });
  });

  const model = scriptedModel(['No']);

  it.each([
    ['a prompt that is not a valid template', () => selfCheckOutput({ model, prompt: '{{ bot_response ' }), 'selfCheckOutput: the prompt is not a valid Jinja template'],
    ['a model that is not a ChatModel', () => selfCheckOutput({ model: {} as never, prompt: 'x' }), 'selfCheckOutput: model must be a ChatModel'],
    ['maxTokens 0', () => selfCheckOutput({ model, prompt: 'x', maxTokens: 0 }), 'selfCheckOutput: maxTokens must be a positive integer, got 0'],
    ['an empty list of prompt messages', () => selfCheckOutput({ model, prompt: [] }), 'selfCheckOutput: prompt must be a template string or a non-empty list of { role, content }'],
    ['an empty task', () => selfCheckOutput({ model, prompt: 'x', task: '' }), 'selfCheckOutput: task must be a non-empty string, got ""'],
    ['a usage that cannot record', () => selfCheckOutput({ model, prompt: 'x', usage: 'calls' as never }), 'selfCheckOutput: usage must be a UsageTracker (or an object with next(call)), got "calls"'],
  ])('should throw InvalidOptionError when created with %s', (_, create, message) => {
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});
