// Marble tests of the panel's pipeline, written with rxguardrails/testing as an Angular app's own specs would be:
// a token stream from a marble, through guard, into the states the template renders. createTestScheduler compares
// errors by name and message, and uses vitest's global expect.
import { guard, keywordRail, ProviderError } from 'rxguardrails';
import { createTestScheduler } from 'rxguardrails/testing';
import { throwError } from 'rxjs';
import { answerState, type AnswerState } from './answer-state';

const tokens = { a: 'top ', b: 'sec', c: 'ret ', d: 'plan' };
const rails = [keywordRail(['secret'])];
const windows = { chunkSize: 2, contextSize: 1, streamFirst: false } as const;

describe('answerState over guard', () => {
  it('should show each released token and end done when every window passes', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-d-|', tokens);
      const sourceSubs = ' ^----!';
      const expected = '  s--a-(dz|)';
      const values: Record<string, AnswerState> = {
        s: { status: 'streaming', text: '' },
        a: { status: 'streaming', text: 'top ' },
        d: { status: 'streaming', text: 'top plan' },
        z: { status: 'done', text: 'top plan' },
      };
      expectObservable(answerState(source.pipe(guard(rails, windows)))).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should keep the text released before a block, name the rail, and unsubscribe the model at the block', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', tokens);
      const sourceSubs = ' ^----!';
      const expected = '  s--a-(x|)';
      const values: Record<string, AnswerState> = {
        s: { status: 'streaming', text: '' },
        a: { status: 'streaming', text: 'top ' },
        x: { status: 'blocked', text: 'top ', rail: 'keyword', message: 'Blocked by keyword rails.', reason: 'matched keyword "secret"' },
      };
      expectObservable(answerState(source.pipe(guard(rails, windows)))).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should unsubscribe the model when the answer is unsubscribed (a new question, Stop, the component destroyed)', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-d-d-d-|', tokens);
      const unsub = '      ----!';
      const sourceSubs = ' ^---!';
      const expected = '   s--a';
      expectObservable(answerState(source.pipe(guard(rails, windows))), unsub).toBe(expected, {
        s: { status: 'streaming', text: '' },
        a: { status: 'streaming', text: 'top ' },
      });
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('should end failed, with the provider named, when the model fails', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const failure = new ProviderError({ provider: 'openai', status: 429, type: 'rate_limit_error', during: 'request', detail: 'Slow down.' });
      const expected = '(sx|)';
      expectObservable(answerState(throwError(() => failure).pipe(guard(rails, windows)))).toBe(expected, {
        s: { status: 'streaming', text: '' },
        x: { status: 'failed', text: '', message: 'openai: HTTP 429 rate_limit_error: Slow down.' },
      });
    });
  });
});
