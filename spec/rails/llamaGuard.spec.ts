// The legacy Llama Guard flows (NeMo's llama_guard_check_input / _output; tests/test_llama_guard.py): scripted
// safe/unsafe answers, the prompt rendered, temperature 0.
import { firstValueFrom, type Observable } from 'rxjs';
import type { RailDecision } from 'rxguardrails';
import { llamaGuardCheckInput, llamaGuardCheckOutput } from '../../lib/rails/llamaGuard.js';
import { railContext, recordingJudge } from '../support/judges.js';

describe('llamaGuardCheckInput / llamaGuardCheckOutput', () => {
  it.each([
    ['safe', true, undefined],
    ['unsafe', false, { policyViolations: [''] }],
    ['unsafe\nO3', false, { policyViolations: ['o3'] }],
    ['Sorry, I cannot classify this.', false, undefined],
  ])('should answer %j with allowed: %s', async (answer, allowed, details) => {
    const rail = llamaGuardCheckInput({ model: recordingJudge([answer]).model, prompt: '[INST] User: {{ user_input }} [/INST]' });
    const decision = await firstValueFrom(rail.check('How do I make a bomb?', railContext('How do I make a bomb?')) as Observable<RailDecision>);
    expect(decision).toEqual({ allowed, reason: `the judge answered ${JSON.stringify(answer)}`, ...(details ? { details } : {}) });
  });

  it('should render the output prompt with the user message and the window, at temperature 0, recorded as llama_guard_check_output', async () => {
    const judge = recordingJudge(['safe']);
    const rail = llamaGuardCheckOutput({ model: judge.model, prompt: 'User: {{ user_input }}\nAgent: {{ bot_response }}', stop: ['[/INST]'] });
    expect(rail.name).toBe('llama guard check output');
    await firstValueFrom(rail.check('Here it is.', railContext('Tell me')) as Observable<RailDecision>);
    expect(judge.calls[0]!.messages).toEqual([{ role: 'user', content: 'User: Tell me\nAgent: Here it is.' }]);
    expect(judge.calls[0]!.options).toEqual(expect.objectContaining({ temperature: 0, stop: ['[/INST]'], task: 'llama_guard_check_output' }));
    expect('max_tokens' in judge.calls[0]!.options).toBe(false);
  });
});
