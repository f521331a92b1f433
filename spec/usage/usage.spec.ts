import { lastValueFrom, map, of, take, tap, toArray } from 'rxjs';
import fc from 'fast-check';
import { addUsage, ExplainInfo, InvalidOptionError, type LlmCallInfo, scriptedModel, UsageTracker } from 'rxguardrails';
import { collectNow } from '../support/collect.js';

const call = (task: string, durationMs: number, totalTokens: number | undefined, extra: Partial<LlmCallInfo> = {}): LlmCallInfo => ({
  id: `${task}-${durationMs}`,
  task,
  provider: 'openai',
  model: 'gpt-4o-mini',
  promptTokens: totalTokens === undefined ? undefined : totalTokens - 10,
  completionTokens: totalTokens === undefined ? undefined : 10,
  totalTokens,
  durationMs,
  startedAt: 0,
  finishedAt: durationMs,
  estimated: false,
  outcome: 'completed',
  ...extra,
});

describe('addUsage', () => {
  it('should add known counts, 0 included', () => {
    expect(addUsage({ promptTokens: 10, completionTokens: 5, totalTokens: 15 }, { promptTokens: 3, completionTokens: 0, totalTokens: 3 })).toEqual({
      promptTokens: 13,
      completionTokens: 5,
      totalTokens: 18,
    });
  });

  it.each([
    ['both unknown', {}, {}, { promptTokens: undefined, completionTokens: undefined, totalTokens: undefined }],
    ['0 and unknown', { promptTokens: 0 }, {}, { promptTokens: 0, completionTokens: undefined, totalTokens: undefined }],
    ['unknown and a count', {}, { completionTokens: 7 }, { promptTokens: undefined, completionTokens: 7, totalTokens: undefined }],
  ])('should keep unknown (undefined) apart from 0: %s', (_, a, b, sum) => {
    expect(addUsage(a, b)).toEqual(sum);
  });
});

describe('UsageTracker', () => {
  it('should keep every call, with totals', () => {
    const tracker = new UsageTracker();
    tracker.next(call('general', 670, 90));
    tracker.next(call('self_check_output', 400, 153, { estimated: true }));
    expect(tracker.snapshot()).toEqual({
      calls: [expect.objectContaining({ task: 'general' }), expect.objectContaining({ task: 'self_check_output' })],
      totals: { calls: 2, estimatedCalls: 1, durationMs: 1070, promptTokens: 223, completionTokens: 20, totalTokens: 243 },
    });
  });

  describe('a bounded memory', () => {
    const numbered = (count: number) => Array.from({ length: count }, (_, index) => call(`task${index}`, 1 + (index % 7), index % 5 === 0 ? undefined : 20));

    it('should keep the latest 1000 calls by default, oldest first, with totals over every call', () => {
      const tracker = new UsageTracker();
      const calls = numbered(5_000);
      for (const one of calls) tracker.next(one);
      const { calls: kept, totals } = tracker.snapshot();
      expect(kept).toEqual(calls.slice(-1_000));
      expect(totals.calls).toBe(5_000);
      expect(totals.durationMs).toBe(calls.reduce((sum, one) => sum + one.durationMs, 0));
      expect(totals.totalTokens).toBe(calls.reduce((sum, one) => sum + (one.totalTokens ?? 0), 0));
      expect(tracker.explain().llmCalls).toHaveLength(1_000);
    });

    it('should keep any number asked for, Infinity and 0 included (property: the latest, in order)', () => {
      fc.assert(
        fc.property(fc.oneof(fc.nat(40), fc.constant(Number.POSITIVE_INFINITY)), fc.nat(120), (keep, count) => {
          const tracker = new UsageTracker({ keep });
          const calls = numbered(count);
          const replayed: LlmCallInfo[] = [];
          for (const one of calls) tracker.next(one);
          tracker.calls$.subscribe((one) => replayed.push(one)).unsubscribe();
          const latest = keep === 0 ? [] : calls.slice(-Math.min(keep, count) || calls.length);
          expect(tracker.snapshot().calls).toEqual(latest);
          expect(replayed).toEqual(latest);
          expect(tracker.snapshot().totals.calls).toBe(count);
        }),
      );
    });

    it('should refuse a keep that is not a whole number of calls', () => {
      expect(() => new UsageTracker({ keep: 2.5 })).toThrow('UsageTracker: keep must be a whole number of calls (or Infinity), got 2.5');
      expect(() => new UsageTracker({ keep: -1 })).toThrow(InvalidOptionError);
    });
  });

  it('should replay the calls so far on calls$, then follow new ones, and never complete', () => {
    const tracker = new UsageTracker();
    tracker.next(call('a', 1, 1));
    const seen: string[] = [];
    let completed = false;
    tracker.calls$.subscribe({ next: (recorded) => seen.push(recorded.task), complete: () => (completed = true) });
    tracker.next(call('b', 1, 1));
    expect(seen).toEqual(['a', 'b']);
    expect(completed).toBe(false);
  });

  it('should give the totals so far on totals$, then after each call', async () => {
    const tracker = new UsageTracker();
    tracker.next(call('a', 10, 20));
    const totals = lastValueFrom(tracker.totals$.pipe(take(2), toArray()));
    tracker.next(call('b', 5, undefined));
    expect((await totals).map((entry) => [entry.calls, entry.totalTokens, entry.durationMs])).toEqual([
      [1, 20, 10],
      [2, 20, 15],
    ]);
  });

  it('should serve many streams and never be completed by one', async () => {
    const tracker = new UsageTracker();
    let completed = false;
    tracker.calls$.subscribe({ complete: () => (completed = true) });
    const model = scriptedModel(['one answer', 'another one']);
    await lastValueFrom(model.stream([], { usage: tracker }));
    await lastValueFrom(model.stream([], { usage: tracker }));
    // A pipeline of your own records with tap({ next }), so its completion never reaches the tracker.
    collectNow(of(call('custom', 5, 5)).pipe(tap({ next: (recorded) => tracker.next(recorded) }), map(() => '')));
    expect(tracker.snapshot().totals.calls).toBe(3);
    expect(completed).toBe(false);
  });

  it('should reject something that is not a call', () => {
    expect(() => new UsageTracker().next({ tokens: 3 } as never)).toThrow('UsageTracker.next: expected an LlmCallInfo');
  });
});

describe('ExplainInfo: NeMo print_llm_calls_summary text', () => {
  it("should print NeMo's documented example exactly", () => {
    const info = new ExplainInfo([call('self_check_input', 350, 169), call('general', 670, 90), call('self_check_output', 400, 153)]);
    expect(info.summary()).toBe(
      'Summary: 3 LLM call(s) took 1.42 seconds and used 412 tokens.\n' +
        '\n' +
        '1. Task `self_check_input` took 0.35 seconds and used 169 tokens.\n' +
        '2. Task `general` took 0.67 seconds and used 90 tokens.\n' +
        '3. Task `self_check_output` took 0.40 seconds and used 153 tokens.\n' +
        '\n',
    );
  });

  it('should say so when no call was made', () => {
    expect(new ExplainInfo([]).summary()).toBe('No LLM calls were made.\n');
    expect(new UsageTracker().explain().summary()).toBe('No LLM calls were made.\n');
  });

  it('should print the variant without tokens, with its space before the period', () => {
    expect(new ExplainInfo([call('general', 1234, undefined), call('self_check_output', 500, 0)]).summary()).toBe(
      'Summary: 2 LLM call(s) took 1.73 seconds .\n\n1. Task `general` took 1.23 seconds .\n2. Task `self_check_output` took 0.50 seconds .\n\n',
    );
  });

  it('should print None for a call without a total when others have one', () => {
    expect(new ExplainInfo([call('general', 100, 40), call('self_check_output', 200, undefined)]).summary()).toBe(
      'Summary: 2 LLM call(s) took 0.30 seconds and used 40 tokens.\n\n1. Task `general` took 0.10 seconds and used 40 tokens.\n2. Task `self_check_output` took 0.20 seconds and used None tokens.\n\n',
    );
  });

  it("should round exact ties to even, as Python's .2f does", () => {
    expect(new ExplainInfo([call('general', 125, 1), call('general', 375, 1), call('general', 1005, 1)]).summary().split('\n').slice(2, 5)).toEqual([
      '1. Task `general` took 0.12 seconds and used 1 tokens.',
      '2. Task `general` took 0.38 seconds and used 1 tokens.',
      '3. Task `general` took 1.00 seconds and used 1 tokens.',
    ]);
  });

  it('should print the summary to the console byte for byte', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const info = new ExplainInfo([call('general', 670, 90)]);
      info.printLlmCallsSummary();
      expect(log).toHaveBeenCalledWith(info.summary().slice(0, -1));
    } finally {
      log.mockRestore();
    }
  });
});
