// Marble tests of the panel's pipeline, written with rxguardrails/testing as an Angular app's own specs would be:
// a token stream from a marble, through guard, into the states the template renders.
import { guard, keywordRail, ProviderError } from 'rxguardrails';
import { createTestScheduler, tokenSource } from 'rxguardrails/testing';
import { throwError } from 'rxjs';
import { answerState, type AnswerState } from './answer-state';

const tokens = { a: 'top ', b: 'sec', c: 'ret ', d: 'plan' };
const rails = [keywordRail(['secret'])];
const windows = { chunkSize: 2, contextSize: 1, streamFirst: false } as const;

describe('answerState over guard', () => {
  it('should show each released token and end done when every window passes', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable, expectSubscriptions }) => {
      const source = tokenSource('-a-d-|', { scheduler, values: tokens });
      const sourceSubs = '        ^----!';
      const expected = '          s--a-(dz|)';
      const values: Record<string, AnswerState> = {
        s: { status: 'streaming', text: '' },
        a: { status: 'streaming', text: 'top ' },
        d: { status: 'streaming', text: 'top plan' },
        z: { status: 'done', text: 'top plan' },
      };
      const guarded = source.pipe(guard(rails, windows));
      expectObservable(answerState(guarded)).toBe(expected, values);
      expectSubscriptions((source as unknown as { subscriptions: never[] }).subscriptions).toBe(sourceSubs);
    });
  });

  it('should keep the text released before a block, name the rail, and unsubscribe the model at the block', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable, expectSubscriptions }) => {
      const source = tokenSource('-a-b-c-d-|', { scheduler, values: tokens });
      const sourceSubs = '        ^----!';
      const expected = '          s--a-(x|)';
      const values: Record<string, AnswerState> = {
        s: { status: 'streaming', text: '' },
        a: { status: 'streaming', text: 'top ' },
        x: { status: 'blocked', text: 'top ', rail: 'keyword', message: 'Blocked by keyword rails.', reason: 'matched keyword "secret"' },
      };
      expectObservable(answerState(source.pipe(guard(rails, windows)))).toBe(expected, values);
      expectSubscriptions((source as unknown as { subscriptions: never[] }).subscriptions).toBe(sourceSubs);
    });
  });

  it('should end failed, with the provider named, when the model fails', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const failure = new ProviderError({ provider: 'openai', status: 429, type: 'rate_limit_error', during: 'request', detail: 'Slow down.' });
      const expected = '(sx|)';
      expectObservable(answerState(throwError(() => failure).pipe(guard(rails, windows)))).toBe(expected, {
        s: { status: 'streaming', text: '' },
        x: { status: 'failed', text: '', message: 'openai: HTTP 429 rate_limit_error: Slow down.' },
      });
    });
  });
});
