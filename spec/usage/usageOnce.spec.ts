// Exactly one usage record per call, however the call ends: a property over random providers and endings, with
// the real SDK clients against the replay server.
import fc from 'fast-check';
import { type Observable, take } from 'rxjs';
import { fromAnthropic, fromOpenAI, fromOpenAIResponses, guard, keywordRail, UsageTracker } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { anthropicClient, openAIClient, useReplayServer, user } from '../support/clients.js';
import type { ReplayPlan, ReplayServer } from '../support/replayServer.js';

type Provider = 'chat' | 'responses' | 'anthropic';
const transcripts: Record<Provider, { ok: string; failing: string }> = {
  chat: { ok: 'openai-chat-usage.sse', failing: 'openai-chat-error.sse' },
  responses: { ok: 'openai-responses-basic.sse', failing: 'openai-responses-error.sse' },
  anthropic: { ok: 'anthropic-messages-usage.sse', failing: 'anthropic-messages-error.sse' },
};

function source(server: ReplayServer, provider: Provider, usage: UsageTracker, signal?: AbortSignal): Observable<string> {
  const options = { usage, signal };
  if (provider === 'chat') return fromOpenAI(openAIClient(server), { model: 'gpt-4o-mini', messages: user('hi') }, options);
  if (provider === 'responses') return fromOpenAIResponses(openAIClient(server), { model: 'gpt-4.1-mini', input: 'hi' }, options);
  return fromAnthropic(anthropicClient(server), { model: 'claude-opus-4-7', max_tokens: 64, messages: user('hi') }, options);
}

const ending = fc.oneof(
  fc.constant({ kind: 'complete' as const }),
  fc.constant({ kind: 'error event' as const }),
  fc.record({ kind: fc.constant('http error' as const), status: fc.constantFrom(401, 429, 500, 529) }),
  fc.record({ kind: fc.constant('dropped' as const), afterBlocks: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('unsubscribe' as const), afterTokens: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('abort' as const), afterMs: fc.integer({ min: 0, max: 15 }) }),
  fc.constant({ kind: 'violation' as const }),
);

describe('usage records', () => {
  const replay = useReplayServer();

  it('should be exactly one per call, whether it completes, fails or is unsubscribed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Provider>('chat', 'responses', 'anthropic'), ending, async (provider, end) => {
        const { server } = replay;
        const usage = new UsageTracker();
        const slow = { delayMs: 2 };
        const plans: Record<typeof end.kind, ReplayPlan> = {
          complete: { transcript: transcripts[provider].ok },
          'error event': { transcript: transcripts[provider].failing },
          'http error': { status: 'status' in end ? end.status : 500, body: { error: { message: 'failed', type: 'server_error' } } },
          dropped: { transcript: transcripts[provider].ok, dropAfterBlocks: 'afterBlocks' in end ? end.afterBlocks : 1 },
          unsubscribe: { transcript: transcripts[provider].ok, ...slow },
          abort: { transcript: transcripts[provider].ok, ...slow },
          violation: { transcript: transcripts[provider].ok, ...slow },
        };
        const requestsBefore = server.requests.length;
        server.plan(plans[end.kind]);
        const controller = new AbortController();
        let tokens$ = source(server, provider, usage, controller.signal);
        if (end.kind === 'unsubscribe') tokens$ = tokens$.pipe(take(end.afterTokens));
        if (end.kind === 'violation') tokens$ = tokens$.pipe(guard([keywordRail(['e'])], { chunkSize: 2, contextSize: 0 }));
        if (end.kind === 'abort') setTimeout(() => controller.abort(new Error('stop')), end.afterMs);
        await collect(tokens$);
        // An abort right away may come before the request was even sent.
        if (server.requests.length > requestsBefore) await server.requests.at(-1)!.closed;
        server.clearPlans();
        await new Promise((resolve) => setTimeout(resolve, 5));
        const { calls } = usage.snapshot();
        expect(calls).toHaveLength(1);
        const expectedOutcome = {
          complete: 'completed',
          'error event': 'error',
          'http error': 'error',
          dropped: 'error',
          unsubscribe: 'cancelled',
          abort: 'cancelled',
          violation: 'cancelled',
        }[end.kind];
        // A very short stream may complete before the unsubscription, the abort or the violation.
        if (['unsubscribe', 'abort', 'violation', 'dropped'].includes(end.kind)) expect(['completed', expectedOutcome]).toContain(calls[0]!.outcome);
        else expect(calls[0]!.outcome).toBe(expectedOutcome);
        expect(calls[0]!.estimated).toBe(calls[0]!.outcome !== 'completed');
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
