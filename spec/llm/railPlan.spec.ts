// The rail plan: the config interpreted once per LLMRails, each call adding only its messages, its usage sink and
// its log recorder. Usage goes through one fan-out sink per call, so a record reaches every tracker whenever the
// call ends, whatever the order in which RxJS tears the pipeline down.
import { firstValueFrom, type Observable, Subject, take, toArray } from 'rxjs';
import { type ChatMessage, defineRail, type LlmCallInfo, LLMRails, RailsConfig, scriptedModel, StreamingHandler, UsageTracker } from 'rxguardrails';

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];
const CLEAN = 'Hello there! How are you?';
const LEAKY = 'The admin password is hunter2.';

const keywordConfig = RailsConfig.fromContent({
  models: [{ engine: 'scripted', parameters: { responses: ['unused'] } }],
  streaming: true,
  rails: {
    output: { flows: ['keyword check'], streaming: { enabled: true, chunk_size: 4, context_size: 1 } },
    config: { keyword_check: { keywords: ['password'] } },
  },
});

type Ending = 'complete' | 'block' | 'model error' | 'consumer leaves';
type EntryPoint = 'stream' | 'streamAsync' | 'answer' | 'generate';

const answers: Record<Ending, string | Error> = { complete: CLEAN, block: LEAKY, 'model error': new Error('model down'), 'consumer leaves': CLEAN };
const outcomes: Record<Ending, LlmCallInfo['outcome']> = { complete: 'completed', block: 'cancelled', 'model error': 'error', 'consumer leaves': 'cancelled' };

/** Runs one call to its ending; never rejects (the ending may be an error). */
async function run(rails: LLMRails, entry: EntryPoint, ending: Ending, usage: UsageTracker): Promise<void> {
  const leave = ending === 'consumer leaves';
  const drain = (answer$: Observable<string>) => firstValueFrom((leave ? answer$.pipe(take(1)) : answer$).pipe(toArray())).catch(() => undefined);
  switch (entry) {
    case 'stream':
      return void (await drain(rails.stream(ask('Hi'), { usage })));
    case 'answer':
      return void (await drain(rails.answer(ask('Hi'), { usage })));
    case 'streamAsync':
      try {
        for await (const _token of rails.streamAsync(ask('Hi'), { usage })) if (leave) break;
      } catch {
        // the ending under test
      }
      return;
    case 'generate': {
      const controller = new AbortController();
      const streamingHandler = new StreamingHandler();
      // Leaving = aborting once the first chunk has arrived: an awaited event, not a timer.
      if (leave) streamingHandler.subscribe({ next: () => controller.abort(new Error('left')), error: () => undefined });
      await rails.generate(ask('Hi'), { usage, signal: controller.signal, streamingHandler }).catch(() => undefined);
    }
  }
}

describe('the rail plan', () => {
  describe('records the main call exactly once, in every tracker, on every ending of every entry point', () => {
    const entries: EntryPoint[] = ['stream', 'streamAsync', 'answer', 'generate'];
    const endings: Ending[] = ['complete', 'block', 'model error', 'consumer leaves'];
    it.each(entries.flatMap((entry) => endings.map((ending) => [entry, ending] as const)))('%s, %s', async (entry, ending) => {
      const instance = new UsageTracker();
      const call = new UsageTracker();
      // A word every millisecond: a consumer that leaves after the first word (on the microtask that delivers it)
      // leaves before the second.
      const rails = new LLMRails(keywordConfig, { models: { main: scriptedModel([answers[ending]], { delayMs: 1 }) }, usage: instance });
      await run(rails, entry, ending, call);
      for (const calls of [rails.explain().llmCalls, instance.snapshot().calls, call.snapshot().calls]) {
        expect(calls).toEqual([expect.objectContaining({ task: 'general', outcome: outcomes[ending] })]);
      }
    });
  });

  it("should hand each call's own usage sink to its rails, so concurrent calls do not mix their judges' calls", async () => {
    const judged = RailsConfig.fromContent({
      models: [{ engine: 'scripted', parameters: { responses: ['unused'] } }],
      streaming: true,
      rails: { output: { flows: ['self check output'], streaming: { enabled: true, chunk_size: 4, context_size: 1 } } },
      prompts: [{ task: 'self_check_output', content: 'Block? {{ bot_response }}' }],
    });
    const judge = scriptedModel(['No']);
    const rails = new LLMRails(judged, { models: { main: scriptedModel([CLEAN, 'Short answer.']), self_check_output: judge } });
    const [first, second] = [new UsageTracker(), new UsageTracker()];
    await Promise.all([firstValueFrom(rails.stream(ask('one'), { usage: first }).pipe(toArray())), firstValueFrom(rails.stream(ask('two'), { usage: second }).pipe(toArray()))]);
    // CLEAN is 5 words: windows of 4 with 1 of context make 2 judge calls; "Short answer." 1.
    expect(first.snapshot().calls.map((call) => call.task).sort()).toEqual(['general', 'self_check_output', 'self_check_output']);
    expect(second.snapshot().calls.map((call) => call.task).sort()).toEqual(['general', 'self_check_output']);
    expect(rails.explain().llmCalls).toHaveLength(5);
  });

  it('should give a custom rail the call\'s usage sink in its context', async () => {
    const sinks: unknown[] = [];
    const rails = new LLMRails(keywordConfig, {
      models: { main: scriptedModel([CLEAN]) },
      rails: { 'keyword check': defineRail('spy', (_text, context) => (sinks.push(context.usage), true)) },
    });
    const recorded: LlmCallInfo[] = [];
    await firstValueFrom(rails.stream(ask('Hi'), { usage: { next: (call) => recorded.push(call) } }).pipe(toArray()));
    expect(sinks.length).toBeGreaterThan(0);
    const [sink] = sinks as { next(call: LlmCallInfo): void }[];
    sink!.next({ ...recorded[0]!, id: 'from the rail', task: 'custom' });
    expect(recorded.map((call) => call.id).at(-1)).toBe('from the rail');
    expect(rails.explain().llmCalls.map((call) => call.task)).toEqual(['general', 'custom']);
  });

  it('should take any object with next(call) as a usage sink, a Subject included, and never complete it', async () => {
    const calls$ = new Subject<LlmCallInfo>();
    const seen: string[] = [];
    calls$.subscribe({ next: (call) => seen.push(call.task), complete: () => seen.push('completed') });
    const rails = new LLMRails(keywordConfig, { models: { main: scriptedModel([CLEAN]) }, usage: calls$ });
    await firstValueFrom(rails.stream(ask('Hi')).pipe(toArray()));
    await firstValueFrom(rails.stream(ask('Hi')).pipe(toArray()));
    expect(seen).toEqual(['general', 'general']);
  });

  it('should refuse a usage option without next()', () => {
    expect(() => new LLMRails(keywordConfig, { usage: {} as never })).toThrow('LLMRails: usage must be a UsageTracker (or an object with next(call)), got an object');
    const rails = new LLMRails(keywordConfig, { models: { main: scriptedModel([CLEAN]) } });
    expect(() => rails.stream(ask('Hi'), { usage: 'tracker' as never })).toThrow('LLMRails.stream: usage must be a UsageTracker (or an object with next(call)), got "tracker"');
  });
});
