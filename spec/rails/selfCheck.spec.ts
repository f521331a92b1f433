import { firstValueFrom, isObservable, type Observable } from 'rxjs';
import { InvalidOptionError, type RailContext, type RailDecision, scriptedModel, selfCheckInput, selfCheckOutput, UsageTracker } from 'rxguardrails';
import { isContentSafe } from '../../lib/rails/selfCheck.js';

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
    expect(isContentSafe(answer)).toBe(safe);
  });
});

describe('selfCheckOutput / selfCheckInput', () => {
  it('should ask the judge with the rendered prompt and block on Yes, recording the call as self_check_output', async () => {
    const asked: unknown[] = [];
    const usage = new UsageTracker();
    const judge = scriptedModel((messages) => {
      asked.push(messages);
      return 'Yes';
    });
    const rail = selfCheckOutput({ model: judge, usage, prompt: 'User: "{{ user_input }}" Bot: "{{ bot_response }}" Block?' });
    expect(rail.name).toBe('self check output');
    const answer = rail.check('the secret is out', context('tell me'));
    expect(isObservable(answer)).toBe(true);
    expect(await firstValueFrom(answer as Observable<RailDecision>)).toEqual({ allowed: false, reason: 'the judge answered "Yes"' });
    expect(asked).toEqual([[{ role: 'user', content: 'User: "tell me" Bot: "the secret is out" Block?' }]]);
    expect(usage.snapshot().calls).toEqual([expect.objectContaining({ task: 'self_check_output' })]);
  });

  it('should take chat messages as the prompt, and record input checks as self_check_input', async () => {
    const asked: unknown[] = [];
    const usage = new UsageTracker();
    const judge = scriptedModel((messages) => (asked.push(messages), 'No'));
    const rail = selfCheckInput({
      model: judge,
      usage,
      prompt: [
        { role: 'system', content: 'You moderate.' },
        { role: 'user', content: 'Message: {{ user_input | upper }}' },
      ],
    });
    expect(await firstValueFrom(rail.check('hi', context()) as Observable<RailDecision>)).toEqual({ allowed: true, reason: 'the judge answered "No"' });
    expect(asked).toEqual([[{ role: 'system', content: 'You moderate.' }, { role: 'user', content: 'Message: HI' }]]);
    expect(usage.snapshot().calls[0]!.task).toBe('self_check_input');
  });

  it('should reject a prompt that is not a valid template, and other bad options, when created', () => {
    const model = scriptedModel(['No']);
    expect(() => selfCheckOutput({ model, prompt: '{{ bot_response ' })).toThrow(InvalidOptionError);
    expect(() => selfCheckOutput({ model, prompt: '{{ bot_response ' })).toThrow('selfCheckOutput: the prompt is not a valid Jinja template');
    expect(() => selfCheckOutput({ model: {} as never, prompt: 'x' })).toThrow('selfCheckOutput: model must be a ChatModel');
    expect(() => selfCheckOutput({ model, prompt: 'x', maxTokens: 0 })).toThrow('selfCheckOutput: maxTokens must be a positive integer, got 0');
    expect(() => selfCheckOutput({ model, prompt: [] })).toThrow('selfCheckOutput: prompt must be a template string or a non-empty list of { role, content }');
  });
});
