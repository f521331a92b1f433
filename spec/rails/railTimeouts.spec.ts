// Nothing waits for a rail for ever: a self-check judge has a default bound of 30 s (timeoutMs), and in a config
// every rail of a side has one too (rails.input/output.check_timeout_ms, default 30000). Past it the check fails
// closed: an internal_error verdict, the window blocked, the judge's call aborted. In virtual time.
import { catchError, map, NEVER, of } from 'rxjs';
import { guard, InvalidOptionError, LLMRails, RailViolationError, scriptedModel, UsageTracker } from 'rxguardrails';
import { selfCheckOutput } from 'rxguardrails/judges';
import { createTestScheduler } from 'rxguardrails/testing';
import { configOf, scriptedEngine } from '../support/configs.js';

const outcomeOf = catchError((error: unknown) =>
  of(RailViolationError.isInstance(error) ? `${error.info.verdict.kind}: ${error.info.verdict.reason}` : `other: ${String(error)}`),
);
const ask = (content: string) => [{ role: 'user' as const, content }];

describe('rail timeouts', () => {
  it("should fail a self-check judge that has not answered in 30 s, aborting its call", () => {
    const usage = new UsageTracker();
    createTestScheduler().run(({ cold, expectObservable, flush }) => {
      // The judge answers after a minute (a word every 60 s).
      const judge = scriptedModel(['No'], { delayMs: 60_000 });
      const rail = selfCheckOutput({ model: judge, prompt: 'Block? {{ bot_response }}', usage });
      const tokens$ = cold('(a|)', { a: 'Hello.' });
      expectObservable(tokens$.pipe(guard([rail], { streamFirst: false }), outcomeOf)).toBe('30000ms (x|)', {
        x: 'internal_error: the judge did not answer within 30000 ms',
      });
      flush();
      expect(usage.snapshot().calls.map((call) => call.outcome)).toEqual(['cancelled']);
    });
  });

  it('should take another bound, or none', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const judge = scriptedModel(['No'], { delayMs: 60_000 });
      const bounded = selfCheckOutput({ model: judge, prompt: 'Block? {{ bot_response }}', timeoutMs: 500 });
      expectObservable(cold('(a|)', { a: 'Hi' }).pipe(guard([bounded], { streamFirst: false }), outcomeOf)).toBe('500ms (x|)', { x: 'internal_error: the judge did not answer within 500 ms' });
      const patient = selfCheckOutput({ model: judge, prompt: 'Block? {{ bot_response }}', timeoutMs: Number.POSITIVE_INFINITY });
      expectObservable(cold('(a|)', { a: 'Hi' }).pipe(guard([patient], { streamFirst: false }), outcomeOf)).toBe('60000ms (a|)', { a: 'Hi' });
    });
    expect(() => selfCheckOutput({ model: scriptedModel(['No']), prompt: 'x', timeoutMs: 0 })).toThrow(InvalidOptionError);
    expect(() => selfCheckOutput({ model: scriptedModel(['No']), prompt: 'x', timeoutMs: 0 })).toThrow(
      'selfCheckOutput: timeoutMs must be a positive number of milliseconds (or Infinity), got 0',
    );
  });

  describe('in a config', () => {
    const hanging = { 'never answers': () => NEVER.pipe(map(() => true)) };

    it.each(['input', 'output'] as const)('should fail a %s rail that has not answered in 30 s by default', (side) => {
      const config = configOf({
        models: [scriptedEngine(['Hello.'])],
        streaming: true,
        rails: side === 'input' ? { input: { flows: ['never answers'] } } : { output: { flows: ['never answers'], streaming: { enabled: true, stream_first: false } } },
      });
      createTestScheduler().run(({ expectObservable }) => {
        const rails = new LLMRails(config, { rails: hanging, onInputViolation: 'error' });
        expectObservable(rails.stream(ask('Hi')).pipe(outcomeOf)).toBe('30000ms (x|)', { x: 'internal_error: timed out after 30000 ms' });
      });
    });

    it('should take check_timeout_ms from the config', () => {
      const config = configOf({
        models: [scriptedEngine(['Hello.'])],
        streaming: true,
        rails: { output: { flows: ['never answers'], check_timeout_ms: 2_000, streaming: { enabled: true, stream_first: false } } } as never,
      });
      expect(config.data.rails.input.check_timeout_ms).toBe(30_000);
      createTestScheduler().run(({ expectObservable }) => {
        const rails = new LLMRails(config, { rails: hanging });
        expectObservable(rails.stream(ask('Hi')).pipe(outcomeOf)).toBe('2000ms (x|)', { x: 'internal_error: timed out after 2000 ms' });
      });
    });

    it('should refuse a check_timeout_ms that is not a positive number, at its key', () => {
      expect(() => configOf({ rails: { input: { flows: [], check_timeout_ms: 0 } } } as never)).toThrow('rails.input.check_timeout_ms: must be a positive number of milliseconds');
    });
  });
});
