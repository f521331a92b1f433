// The topic-safety rail (NeMo's topic_safety_check_input action; tests/guardrails/test_topic_safety_iorails_actions.py):
// the policy as the system message with NeMo's closing instruction, the conversation after it, temperature 0.01, and
// NeMo's fail-open answer rule.
import { firstValueFrom, Observable } from 'rxjs';
import { type ChatModel, InvalidOptionError, type RailDecision } from 'rxguardrails';
import { TOPIC_SAFETY_OUTPUT_RESTRICTION, topicSafetyCheckInput } from '../../lib/rails/topicSafety.js';
import { railContext, recordingJudge } from '../support/judges.js';

const POLICY = '  You guard a bookshop assistant.\nOnly orders, deliveries and books.\n';
const SUFFIX =
  'If any of the above conditions are violated, please respond with "off-topic". Otherwise, respond with "on-topic". You must respond with "on-topic" or "off-topic".';

describe('topicSafetyCheckInput', () => {
  it("should ask with the stripped policy and NeMo's closing instruction as the system message, then the conversation", async () => {
    const judge = recordingJudge(['on-topic']);
    const rail = topicSafetyCheckInput({ model: judge.model, prompt: POLICY });
    const conversation = [
      { role: 'user', content: 'Where is my order?' },
      { role: 'assistant', content: 'It ships tomorrow.' },
      { role: 'user', content: 'And who wins the election?' },
    ];
    await firstValueFrom(rail.check('And who wins the election?', railContext('And who wins the election?', conversation)) as Observable<RailDecision>);
    expect(judge.calls[0]!.messages).toEqual([{ role: 'system', content: `You guard a bookshop assistant.\nOnly orders, deliveries and books.\n\n${SUFFIX}` }, ...conversation]);
    expect(TOPIC_SAFETY_OUTPUT_RESTRICTION).toBe(SUFFIX);
  });

  it('should not repeat the closing instruction when the policy already ends with it', async () => {
    const judge = recordingJudge(['on-topic']);
    await firstValueFrom(topicSafetyCheckInput({ model: judge.model, prompt: `Books only.\n${SUFFIX}\n` }).check('hi', railContext('hi')) as Observable<RailDecision>);
    expect(judge.calls[0]!.messages).toEqual([{ role: 'system', content: `Books only.\n${SUFFIX}` }, { role: 'user', content: 'hi' }]);
  });

  it('should ask at temperature 0.01, with the stop sequences given and no max_tokens unless given, recorded as topic_safety_check_input', async () => {
    const judge = recordingJudge(['on-topic', 'on-topic']);
    await firstValueFrom(topicSafetyCheckInput({ model: judge.model, prompt: POLICY, stop: ['\n'] }).check('hi', railContext('hi')) as Observable<RailDecision>);
    await firstValueFrom(topicSafetyCheckInput({ model: judge.model, prompt: POLICY, maxTokens: 10 }).check('hi', railContext('hi')) as Observable<RailDecision>);
    expect(judge.calls[0]!.options).toEqual(expect.objectContaining({ temperature: 0.01, stop: ['\n'], task: 'topic_safety_check_input' }));
    expect('max_tokens' in judge.calls[0]!.options).toBe(false);
    expect(judge.calls[1]!.options.max_tokens).toBe(10);
  });

  it.each([
    ['off-topic', false],
    [' OFF-TOPIC\n', false],
    ['on-topic', true],
    ['off-topic.', true],
    ['I cannot tell', true],
    ['', true],
  ])('should answer %j with allowed: %s (only off-topic blocks: fail open, as NeMo)', async (answer, allowed) => {
    const rail = topicSafetyCheckInput({ model: recordingJudge([answer]).model, prompt: POLICY });
    expect(await firstValueFrom(rail.check('hi', railContext('hi')) as Observable<RailDecision>)).toEqual({ allowed, reason: `the judge answered ${JSON.stringify(answer.trim())}` });
  });

  it('should throw InvalidOptionError for a prompt given as chat messages (the policy is one template)', () => {
    const create = () => topicSafetyCheckInput({ model: recordingJudge(['on-topic']).model, prompt: [{ role: 'system', content: 'x' }] as never });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow('topicSafetyCheckInput: prompt must be a template string (the topic policy)');
  });
});

describe('a judge that will not stop', () => {
  it('should stop reading past 64 Ki characters, unsubscribe from the call and fail', async () => {
    let sent = 0;
    const endless: ChatModel = {
      provider: 'scripted',
      model: 'endless',
      // 1,000 characters a token, until unsubscribed (at most a million tokens: a bound for the spec).
      stream: () =>
        new Observable<string>((subscriber) => {
          for (; !subscriber.closed && sent < 1_000_000; sent++) subscriber.next(' '.repeat(999) + 'x');
        }),
    };
    const rail = topicSafetyCheckInput({ model: endless, prompt: POLICY });
    await expect(firstValueFrom(rail.check('hi', railContext('hi')) as Observable<RailDecision>)).rejects.toThrow('the judge answered more than 65536 characters');
    expect(sent).toBe(66);
  });

  it('should quote at most the first 200 characters of a long answer in the verdict', async () => {
    const judge = recordingJudge([`on-topic ${'and more '.repeat(100)}`]);
    const decision = await firstValueFrom(topicSafetyCheckInput({ model: judge.model, prompt: POLICY }).check('hi', railContext('hi')) as Observable<RailDecision>);
    expect(decision.reason!.length).toBeLessThan(260);
    expect(decision.reason).toMatch(/… \(\d+ characters\)$/);
  });
});
