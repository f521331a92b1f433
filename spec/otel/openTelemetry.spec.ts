// rxguardrails/otel through the real OpenTelemetry SDK, in memory: the spans (an InMemorySpanExporter behind a
// SimpleSpanProcessor) and the metrics (a MetricReader collected by hand) of LLMRails requests, with the main model
// the real openai client against a replay server and an LLM-judged output rail.
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { lastValueFrom, toArray } from 'rxjs';
import { LLMRails, type LLMRailsOptions, openAIModel, RailsConfig, RailViolationError, scriptedModel, type Telemetry } from 'rxguardrails';
import { openTelemetry } from 'rxguardrails/otel';
import { openAIClient, transcriptText, useReplayServer, user } from '../support/clients.js';
import { configOf, scriptedEngine } from '../support/configs.js';
import { fixture } from '../support/replayServer.js';

/** A reader collected on demand: what an exporter would be sent now. */
class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The SDK in memory: a tracer and a meter, and what they recorded. */
function sdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    tracer: tracerProvider.getTracer('spec'),
    meter: meterProvider.getMeter('spec'),
    spans: () => exporter.getFinishedSpans(),
    metrics: async () => (await reader.collect()).resourceMetrics,
  };
}

/** The data points of one metric, as [attributes, value] pairs (a histogram's value is its { count, sum }). */
function pointsOf(resourceMetrics: ResourceMetrics, name: string): { attributes: Record<string, unknown>; value: unknown }[] {
  const found = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === name);
  if (!found) return [];
  return found.dataPoints.map((point) => {
    const { value } = point;
    return { attributes: { ...point.attributes }, value: typeof value === 'number' ? value : { count: (value as { count: number }).count, sum: (value as { sum: number }).sum } };
  });
}

const spanNamed = (spans: readonly ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
const epochMs = (time: readonly [number, number]) => time[0] * 1000 + time[1] / 1e6;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

const ANSWER = transcriptText(fixture('openai-chat-usage.sse'), (payload) => (payload.choices as { delta: { content?: string } }[] | undefined)?.[0]?.delta?.content);
const JUDGE_PROMPT = 'Should this be blocked? "{{ bot_response }}"';

describe('openTelemetry()', () => {
  const replay = useReplayServer();

  /** LLMRails with the openai client as main model and a scripted judge of every window, windows of `chunkSize` tokens. */
  function judgedRails(judgeAnswers: readonly string[], options: LLMRailsOptions & { chunkSize?: number } = {}) {
    const { chunkSize = 100, ...railsOptions } = options;
    const judge = scriptedModel(judgeAnswers, { model: 'judge-1' });
    return new LLMRails(
      configOf({
        models: [scriptedEngine(['unused'])],
        rails: { output: { flows: ['self check output'], streaming: { enabled: true, chunk_size: chunkSize, context_size: 10 } } },
        prompts: [{ task: 'self_check_output', content: JUDGE_PROMPT }],
      }),
      { models: { main: openAIModel(openAIClient(replay.server), { model: 'gpt-4.1-nano' }), self_check_output: judge }, ...railsOptions },
    );
  }

  describe('on a stream whose windows all pass', () => {
    async function run() {
      const otel = sdk();
      replay.server.plan('openai-chat-usage.sse');
      const rails = judgedRails(['No'], { telemetry: openTelemetry({ tracer: otel.tracer, meter: otel.meter }) });
      const text = (await lastValueFrom(rails.stream(user('Name a holiday')).pipe(toArray()))).join('');
      return { otel, rails, text, spans: otel.spans() };
    }

    it('should answer the whole text, as without telemetry', async () => {
      expect((await run()).text).toBe(ANSWER);
    });

    it('should make one request span, the parent of every other span, in one trace', async () => {
      const { spans } = await run();
      const [request] = spanNamed(spans, 'rxguardrails stream');
      expect(spanNamed(spans, 'rxguardrails stream')).toHaveLength(1);
      expect(request!.attributes).toEqual({ 'rxguardrails.operation': 'stream', 'rxguardrails.outcome': 'completed' });
      expect(parentOf(request!)).toBeUndefined();
      const children = spans.filter((span) => span !== request);
      expect(children.length).toBeGreaterThan(2);
      for (const child of children) {
        expect(parentOf(child)).toBe(request!.spanContext().spanId);
        expect(child.spanContext().traceId).toBe(request!.spanContext().traceId);
      }
    });

    it("should make a chat span for the main model's call with the GenAI attributes and the provider's token counts", async () => {
      const { spans, rails } = await run();
      const [main] = spanNamed(spans, 'chat gpt-4.1-nano');
      expect(main!.kind).toBe(2); // SpanKind.CLIENT
      expect(main!.attributes).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4.1-nano',
        'gen_ai.usage.input_tokens': 16,
        'gen_ai.usage.output_tokens': 300,
        'rxguardrails.task': 'general',
        'rxguardrails.usage.estimated': false,
        'rxguardrails.llm_call.outcome': 'completed',
      });
      // The call's own start and end, as explain() has them: the spans line up with the calls.
      const call = rails.explain().llmCalls.find((entry) => entry.task === 'general')!;
      expect(epochMs(main!.startTime)).toBeCloseTo(call.startedAt, 0);
      expect(epochMs(main!.endTime)).toBeCloseTo(call.finishedAt, 0);
    });

    it("should make a chat span per judge call and a rail_check span per window, each window's index and verdict", async () => {
      const { spans, rails } = await run();
      const judgeCalls = rails.explain().llmCalls.filter((call) => call.task === 'self_check_output');
      const judged = spanNamed(spans, 'chat judge-1');
      expect(judged).toHaveLength(judgeCalls.length);
      expect(judged.map((span) => span.attributes['rxguardrails.task'])).toEqual(judgeCalls.map(() => 'self_check_output'));
      expect(judged.map((span) => span.attributes['gen_ai.usage.input_tokens']).sort()).toEqual(judgeCalls.map((call) => call.promptTokens).sort());
      const checks = spanNamed(spans, 'rail_check self check output');
      expect(checks.map((span) => span.attributes)).toEqual(
        judgeCalls.map((_, index) => ({
          'rxguardrails.rail.name': 'self check output',
          'rxguardrails.rail.side': 'output',
          'rxguardrails.rail.window_index': index,
          'rxguardrails.rail.verdict': 'pass',
          'rxguardrails.rail.allowed': true,
        })),
      );
      for (const check of checks) expect(epochMs(check.endTime)).toBeGreaterThanOrEqual(epochMs(check.startTime));
    });

    it('should record the token usage and the call durations as the GenAI client metrics, and no block', async () => {
      const { otel } = await run();
      const resourceMetrics = await otel.metrics();
      const main = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1-nano', 'rxguardrails.task': 'general' };
      const usage = pointsOf(resourceMetrics, 'gen_ai.client.token.usage');
      expect(usage).toEqual(
        expect.arrayContaining([
          { attributes: { ...main, 'rxguardrails.usage.estimated': false, 'gen_ai.token.type': 'input' }, value: { count: 1, sum: 16 } },
          { attributes: { ...main, 'rxguardrails.usage.estimated': false, 'gen_ai.token.type': 'output' }, value: { count: 1, sum: 300 } },
        ]),
      );
      const durations = pointsOf(resourceMetrics, 'gen_ai.client.operation.duration');
      expect(durations.find((point) => point.attributes['rxguardrails.task'] === 'general')).toEqual({ attributes: main, value: { count: 1, sum: expect.any(Number) } });
      expect(pointsOf(resourceMetrics, 'rxguardrails.blocks')).toEqual([]);
    });
  });

  describe('on a stream a rail blocks', () => {
    async function run() {
      const otel = sdk();
      // Paced, so that the block (on the second window) comes long before the provider's usage at the end.
      replay.server.plan({ transcript: 'openai-chat-usage.sse', delayMs: 3 });
      const rails = judgedRails(['No', 'Yes'], { telemetry: openTelemetry({ tracer: otel.tracer, meter: otel.meter }), chunkSize: 20 });
      const error = await lastValueFrom(rails.stream(user('Name a holiday'))).catch((caught: unknown) => caught);
      return { otel, error, spans: otel.spans() };
    }

    it('should end the request span as blocked, naming the rail', async () => {
      const { error, spans } = await run();
      expect(RailViolationError.isInstance(error)).toBe(true);
      const [request] = spanNamed(spans, 'rxguardrails stream');
      expect(request!.attributes).toEqual({ 'rxguardrails.operation': 'stream', 'rxguardrails.outcome': 'blocked', 'rxguardrails.blocked.rail': 'self check output' });
      expect(request!.status.code).toBe(0); // a block is the rails working, not an error
    });

    it("should flag the aborted main call's token counts as estimated", async () => {
      const { spans } = await run();
      const [main] = spanNamed(spans, 'chat gpt-4.1-nano');
      expect(main!.attributes).toEqual(
        expect.objectContaining({ 'rxguardrails.usage.estimated': true, 'rxguardrails.llm_call.outcome': 'cancelled', 'gen_ai.usage.output_tokens': expect.any(Number) }),
      );
      expect(main!.attributes['gen_ai.usage.output_tokens']).toBeLessThan(300);
    });

    it('should record the violation on the window that blocked', async () => {
      const { spans } = await run();
      expect(spanNamed(spans, 'rail_check self check output').map((span) => [span.attributes['rxguardrails.rail.window_index'], span.attributes['rxguardrails.rail.verdict']])).toEqual([
        [0, 'pass'],
        [1, 'violation'],
      ]);
    });

    it('should count the block by rail and side', async () => {
      const { otel } = await run();
      const resourceMetrics = await otel.metrics();
      expect(pointsOf(resourceMetrics, 'rxguardrails.blocks')).toEqual([
        { attributes: { 'rxguardrails.rail.name': 'self check output', 'rxguardrails.rail.side': 'output' }, value: 1 },
      ]);
    });
  });

  describe('on generate', () => {
    it('should make a generate request span with its input-rail check and its calls', async () => {
      const otel = sdk();
      const rails = new LLMRails(
        configOf({
          models: [scriptedEngine(['Fine, thanks.'], { model: 'demo' })],
          rails: { input: { flows: ['keyword check'] }, config: { keyword_check: { keywords: ['password'] } } },
        }),
        { telemetry: openTelemetry({ tracer: otel.tracer, meter: otel.meter }) },
      );
      await expect(rails.generate(user('How are you?'))).resolves.toEqual({ role: 'assistant', content: 'Fine, thanks.' });
      await expect(rails.generate(user('The password?'))).resolves.toEqual({ role: 'assistant', content: "I'm sorry, I can't respond to that." });
      const spans = otel.spans();
      const requests = spanNamed(spans, 'rxguardrails generate');
      expect(requests.map((span) => span.attributes['rxguardrails.outcome'])).toEqual(['completed', 'blocked']);
      expect(spanNamed(spans, 'chat demo').map((span) => [parentOf(span), span.attributes['gen_ai.provider.name']])).toEqual([[requests[0]!.spanContext().spanId, 'scripted']]);
      expect(spanNamed(spans, 'rail_check keyword check').map((span) => [parentOf(span), span.attributes['rxguardrails.rail.side'], span.attributes['rxguardrails.rail.verdict']])).toEqual([
        [requests[0]!.spanContext().spanId, 'input', 'pass'],
        [requests[1]!.spanContext().spanId, 'input', 'violation'],
      ]);
      const resourceMetrics = await otel.metrics();
      expect(pointsOf(resourceMetrics, 'rxguardrails.blocks')).toEqual([{ attributes: { 'rxguardrails.rail.name': 'keyword check', 'rxguardrails.rail.side': 'input' }, value: 1 }]);
    });

    it('should end a cancelled generation as cancelled', async () => {
      const otel = sdk();
      const rails = new LLMRails(configOf({ models: [scriptedEngine(['one two three'], { delayMs: 20 })] }), { telemetry: openTelemetry({ tracer: otel.tracer, meter: otel.meter }) });
      const controller = new AbortController();
      const pending = rails.generate(user('Hi'), { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('left')), 5);
      await expect(pending).rejects.toThrow('left');
      expect(spanNamed(otel.spans(), 'rxguardrails generate').map((span) => span.attributes['rxguardrails.outcome'])).toEqual(['cancelled']);
      expect(spanNamed(otel.spans(), 'chat scripted').map((span) => span.attributes['rxguardrails.llm_call.outcome'])).toEqual(['cancelled']);
    });
  });

  describe('with the global providers', () => {
    afterEach(() => {
      trace.disable();
      metrics.disable();
    });

    it('should use them by default, a meter provider registered after openTelemetry() included', async () => {
      const otel = sdk();
      trace.setGlobalTracerProvider(otel.tracerProvider);
      const telemetry = openTelemetry();
      metrics.setGlobalMeterProvider(otel.meterProvider);
      const rails = new LLMRails(configOf({ models: [scriptedEngine(['Hello there'])] }), { telemetry });
      await lastValueFrom(rails.stream(user('Hi')));
      expect(otel.spans().map((span) => span.name).sort()).toEqual(['chat scripted', 'rxguardrails stream']);
      expect(otel.spans().every((span) => span.instrumentationScope.name === 'rxguardrails')).toBe(true);
      const resourceMetrics = await otel.metrics();
      expect(pointsOf(resourceMetrics, 'gen_ai.client.token.usage')).toHaveLength(2);
    });

    it('should record nothing without the telemetry option', async () => {
      const otel = sdk();
      trace.setGlobalTracerProvider(otel.tracerProvider);
      metrics.setGlobalMeterProvider(otel.meterProvider);
      const rails = new LLMRails(configOf({ models: [scriptedEngine(['Hello there'])], rails: { output: { flows: ['keyword check'], streaming: { enabled: true } }, config: { keyword_check: { keywords: ['x'] } } } }));
      await lastValueFrom(rails.stream(user('Hi')));
      await rails.generate(user('Hi'));
      expect(otel.spans()).toEqual([]);
      const resourceMetrics = await otel.metrics();
      expect(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)).toEqual([]);
    });
  });
});

describe('telemetry hooks', () => {
  /** Hooks that write down what they are told. */
  function recording() {
    const events: string[] = [];
    const telemetry: Telemetry = {
      request: (start) => {
        events.push(`request ${start.operation}`);
        return {
          llmCall: (call) => events.push(`llmCall ${call.task} ${call.outcome}`),
          railCheck: (check) => events.push(`railCheck ${check.side} ${check.rail} ${check.windowIndex} ${check.verdict.kind}`),
          end: (end) => events.push(`end ${end.outcome}`),
        };
      },
    };
    return { events, telemetry };
  }

  const keywordConfig = () =>
    configOf({
      models: [scriptedEngine(['one two three four five six'])],
      rails: { output: { flows: ['keyword check'], streaming: { enabled: true, chunk_size: 3, context_size: 1 } }, config: { keyword_check: { keywords: ['five'] } } },
    });

  it('should be told of the calls, the checks and the end, in that order, the end once', async () => {
    const { events, telemetry } = recording();
    const rails = new LLMRails(keywordConfig(), { telemetry, onViolation: 'replace' });
    const answer = (await lastValueFrom(rails.stream(user('Hi')).pipe(toArray()))).join('');
    expect(answer).toBe("one two three four five I'm sorry, I can't respond to that.");
    expect(events).toEqual([
      'request stream',
      'railCheck output keyword check 0 pass',
      'railCheck output keyword check 1 violation',
      'llmCall general cancelled',
      'end blocked',
    ]);
  });

  it('should release synchronously what is released synchronously without telemetry', () => {
    const releasedNow = (options: LLMRailsOptions) => {
      const released: string[] = [];
      new LLMRails(keywordConfig(), { ...options, onViolation: 'replace' }).stream(user('Hi')).subscribe((chunk) => released.push(chunk));
      return released;
    };
    expect(releasedNow({ telemetry: recording().telemetry })).toEqual(releasedNow({}));
  });

  describe('that throw', () => {
    let consoleError: jest.SpyInstance;
    beforeEach(() => {
      consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => consoleError.mockRestore());

    it.each([
      ['request', { request: () => { throw new Error('request hook'); } }],
      ['llmCall', { request: () => ({ llmCall: () => { throw new Error('llmCall hook'); }, railCheck: () => undefined, end: () => undefined }) }],
      ['railCheck', { request: () => ({ llmCall: () => undefined, railCheck: () => { throw new Error('railCheck hook'); }, end: () => undefined }) }],
      ['end', { request: () => ({ llmCall: () => undefined, railCheck: () => { throw new Error('railCheck hook'); }, end: () => { throw new Error('end hook'); } }) }],
      ['request (returning nothing)', { request: () => undefined }],
    ] as [string, Telemetry][])('should never break the stream: %s, reported once', async (_, telemetry) => {
      const rails = new LLMRails(keywordConfig(), { telemetry, onViolation: 'replace' });
      for (let run = 0; run < 2; run++) {
        const answer = (await lastValueFrom(rails.stream(user('Hi')).pipe(toArray()))).join('');
        expect(answer).toBe("one two three four five I'm sorry, I can't respond to that.");
      }
      await expect(rails.generate(user('Hi'))).resolves.toEqual({ role: 'assistant', content: "one two three four five I'm sorry, I can't respond to that." });
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(consoleError.mock.calls[0]![0]).toMatch(/^rxguardrails: a telemetry hook threw/);
    });
  });

  it('should report a throwing hook to onTelemetryError, once, and not to the console', async () => {
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const failures: unknown[] = [];
      const telemetry: Telemetry = {
        request: () => ({ llmCall: () => undefined, railCheck: () => { throw new Error('railCheck hook'); }, end: () => undefined }),
      };
      const rails = new LLMRails(keywordConfig(), { telemetry, onViolation: 'replace', onTelemetryError: (error) => failures.push(error) });
      for (let run = 0; run < 2; run++) {
        expect((await lastValueFrom(rails.stream(user('Hi')).pipe(toArray()))).join('')).toBe("one two three four five I'm sorry, I can't respond to that.");
      }
      expect(failures).toEqual([new Error('railCheck hook')]);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });

  it('should refuse an onTelemetryError that is not a function, when LLMRails is made', () => {
    expect(() => new LLMRails(keywordConfig(), { onTelemetryError: 'log' as never })).toThrow('LLMRails: onTelemetryError must be a function (error) => void, got "log"');
  });

  it('should refuse telemetry that is not one, when LLMRails is made', () => {
    expect(() => new LLMRails(keywordConfig(), { telemetry: { start: () => undefined } as never })).toThrow(
      'LLMRails: telemetry must be a Telemetry (an object with request(start)), got an object',
    );
  });
});

describe('the GenAI names', () => {
  it('should be the semantic conventions\' (as @opentelemetry/semantic-conventions/incubating, which the SDK brings, names them)', async () => {
    // The library writes them as strings rather than depend on that package for constants; the specs above use these
    // strings, so this pins the spans and metrics to the conventions.
    const conventions = await import('@opentelemetry/semantic-conventions/incubating');
    expect([
      conventions.ATTR_GEN_AI_OPERATION_NAME,
      conventions.GEN_AI_OPERATION_NAME_VALUE_CHAT,
      conventions.ATTR_GEN_AI_PROVIDER_NAME,
      conventions.ATTR_GEN_AI_REQUEST_MODEL,
      conventions.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
      conventions.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
      conventions.ATTR_GEN_AI_TOKEN_TYPE,
      conventions.GEN_AI_TOKEN_TYPE_VALUE_INPUT,
      conventions.GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
      conventions.METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
      conventions.METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
      conventions.ATTR_ERROR_TYPE,
    ]).toEqual([
      'gen_ai.operation.name',
      'chat',
      'gen_ai.provider.name',
      'gen_ai.request.model',
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.output_tokens',
      'gen_ai.token.type',
      'input',
      'output',
      'gen_ai.client.token.usage',
      'gen_ai.client.operation.duration',
      'error.type',
    ]);
  });
});

describe('LLMRails call options with telemetry', () => {
  it('should be refused when the call is made, as without telemetry', () => {
    const telemetry: Telemetry = { request: () => ({ llmCall: () => undefined, railCheck: () => undefined, end: () => undefined }) };
    for (const options of [{}, { telemetry }]) {
      const rails = new LLMRails(configOf({ models: [scriptedEngine(['Hi'])] }), options);
      expect(() => rails.stream(user('Hi'), { onInputViolation: 'ignore' as never })).toThrow("LLMRails: onInputViolation must be one of 'refuse', 'error'");
    }
  });
});

describe('the generation log and telemetry', () => {
  it('should tell one story of each rail check: a rail that timed out failed, in both', async () => {
    const told: string[] = [];
    const telemetry: Telemetry = {
      request: () => ({ llmCall: () => undefined, railCheck: (check) => told.push(`${check.rail} ${check.verdict.kind} ${check.verdict.reason}`), end: () => undefined }),
    };
    const rails = new LLMRails(
      RailsConfig.fromContent({ models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } }], rails: { input: { flows: ['slow'], check_timeout_ms: 10 } } }),
      { rails: { slow: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 60)) }, telemetry },
    );
    const result = await rails.generate(user('Hello'), { options: { log: { activatedRails: true } } });
    expect(told).toEqual(['slow internal_error timed out after 10 ms']);
    expect(result.log!.activatedRails!.map(({ name, decisions }) => ({ name, decisions }))).toEqual([{ name: 'slow', decisions: ['failed: timed out after 10 ms'] }]);
    // The rail's late answer changes neither.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(told).toHaveLength(1);
    expect(result.log!.activatedRails![0]!.checks).toBe(1);
  });
});
