import { type Attributes, type Context, context as contextApi, type Histogram, type Meter, metrics, type Span, SpanKind, SpanStatusCode, trace, type Tracer, ValueType } from '@opentelemetry/api';
import type { LlmCallInfo, RailCheckInfo, Telemetry, TelemetryRequest, TelemetryRequestEnd, TelemetryRequestStart } from '../core/types.js';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where spans go.
   * @default `trace.getTracer('rxguardrails')`: the global tracer provider's (spans are dropped until one is registered)
   */
  readonly tracer?: Tracer;
  /**
   * Where metrics go.
   * @default `metrics.getMeter('rxguardrails')`, taken at the first request (so a provider registered after this call counts)
   */
  readonly meter?: Meter;
}

/** The instrumentation scope of the default tracer and meter. */
const SCOPE = 'rxguardrails';

// Attribute names of the GenAI semantic conventions (the incubating entry of @opentelemetry/semantic-conventions
// names them, as spec/otel checks; the library does not depend on that package for a few strings).
const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
const GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
const ERROR_TYPE = 'error.type';
const METRIC_TOKEN_USAGE = 'gen_ai.client.token.usage';
const METRIC_OPERATION_DURATION = 'gen_ai.client.operation.duration';

// The semantic conventions' advised buckets for the two GenAI client histograms.
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** The metric instruments, made once per openTelemetry(). */
interface Instruments {
  readonly tokenUsage: Histogram;
  readonly operationDuration: Histogram;
  readonly railCheckDuration: Histogram;
  readonly blocks: ReturnType<Meter['createCounter']>;
}

/**
 * Telemetry through OpenTelemetry: spans and metrics for every request of an `LLMRails` or a server.
 * Give it as the `telemetry` option of `new LLMRails(config, options)` or `createApp(options)`.
 *
 * - A request span per `stream()` / `answer()` subscription, `generate()` call or server request, named
 *   `rxguardrails <operation>`, the child of whatever span is active when the request starts.
 * - Under it, a `chat <model>` span (kind client) per LLM call, the main model's and the LLM-judged rails', with the
 *   GenAI semantic conventions' attributes and the call's real start and end, and a `rail_check <rail>` span per
 *   rail decision on a window.
 * - Metrics: `gen_ai.client.token.usage` (histogram of tokens, by `gen_ai.token.type` input/output),
 *   `gen_ai.client.operation.duration` (seconds), `rxguardrails.rail_check.duration` (seconds) and the counter
 *   `rxguardrails.blocks` (by rail and side).
 *
 * Nothing is recorded before the events end: spans are made with their real times when a call or a check ends, so
 * they line up with the LLM calls of `explain()`.
 *
 * ## Example
 * ```ts
 * import { LLMRails } from 'rxguardrails';
 * import { RailsConfig } from 'rxguardrails/node';
 * import { openTelemetry } from 'rxguardrails/otel';
 *
 * // Spans and metrics go to the providers your OpenTelemetry SDK registered.
 * const rails = new LLMRails(await RailsConfig.fromPath('./config'), { telemetry: openTelemetry() });
 * ```
 *
 * @param options `tracer` and `meter`, by default the global providers' (`@opentelemetry/api`).
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  const tracer = options.tracer ?? trace.getTracer(SCOPE);
  let instruments: Instruments | undefined;
  // The global meter is no proxy (a meter taken before the SDK registers stays a no-op): taken at the first request.
  const instrumentsNow = () => (instruments ??= makeInstruments(options.meter ?? metrics.getMeter(SCOPE)));
  return {
    request: (start) => requestTelemetry(tracer, instrumentsNow(), start, contextApi.active()),
  };
}

function makeInstruments(meter: Meter): Instruments {
  return {
    tokenUsage: meter.createHistogram(METRIC_TOKEN_USAGE, {
      description: 'Number of input and output tokens used, per LLM call',
      unit: '{token}',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    operationDuration: meter.createHistogram(METRIC_OPERATION_DURATION, {
      description: 'Duration of LLM calls, from the request to the end of the stream',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    railCheckDuration: meter.createHistogram('rxguardrails.rail_check.duration', {
      description: 'Duration of rail checks, one per rail and window',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS.map((bound) => bound / 10) },
    }),
    blocks: meter.createCounter('rxguardrails.blocks', {
      description: 'Windows (or user messages) a rail blocked',
      unit: '{block}',
      valueType: ValueType.INT,
    }),
  };
}

function requestTelemetry(tracer: Tracer, instruments: Instruments, start: TelemetryRequestStart, parent: Context): TelemetryRequest {
  const attributes: Attributes = { 'rxguardrails.operation': start.operation };
  if (start.configId !== undefined) attributes['rxguardrails.config.id'] = start.configId;
  const span = tracer.startSpan(`rxguardrails ${start.operation}`, { kind: SpanKind.INTERNAL, startTime: start.startedAt, attributes }, parent);
  const within = trace.setSpan(parent, span);
  return {
    llmCall: (call) => recordLlmCall(tracer, instruments, call, within),
    railCheck: (check) => recordRailCheck(tracer, instruments, check, within),
    end: (end) => endRequest(span, end),
  };
}

function recordLlmCall(tracer: Tracer, instruments: Instruments, call: LlmCallInfo, parent: Context): void {
  const common: Attributes = {
    [GEN_AI_OPERATION_NAME]: 'chat',
    [GEN_AI_PROVIDER_NAME]: call.provider,
    [GEN_AI_REQUEST_MODEL]: call.model,
    'rxguardrails.task': call.task,
  };
  const failed = call.outcome === 'error' ? { [ERROR_TYPE]: '_OTHER' } : {};
  const span = tracer.startSpan(
    `chat ${call.model}`,
    {
      kind: SpanKind.CLIENT,
      startTime: call.startedAt,
      attributes: {
        ...common,
        ...(call.promptTokens === undefined ? {} : { [GEN_AI_USAGE_INPUT_TOKENS]: call.promptTokens }),
        ...(call.completionTokens === undefined ? {} : { [GEN_AI_USAGE_OUTPUT_TOKENS]: call.completionTokens }),
        'rxguardrails.usage.estimated': call.estimated,
        'rxguardrails.llm_call.outcome': call.outcome,
        ...failed,
      },
    },
    parent,
  );
  if (call.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(call.finishedAt);

  const usage = { ...common, 'rxguardrails.usage.estimated': call.estimated };
  if (call.promptTokens !== undefined) instruments.tokenUsage.record(call.promptTokens, { ...usage, [GEN_AI_TOKEN_TYPE]: 'input' });
  if (call.completionTokens !== undefined) instruments.tokenUsage.record(call.completionTokens, { ...usage, [GEN_AI_TOKEN_TYPE]: 'output' });
  instruments.operationDuration.record(call.durationMs / 1000, { ...common, ...failed });
}

function recordRailCheck(tracer: Tracer, instruments: Instruments, check: RailCheckInfo, parent: Context): void {
  const { verdict } = check;
  const rail: Attributes = { 'rxguardrails.rail.name': check.rail, 'rxguardrails.rail.side': check.side };
  const span = tracer.startSpan(
    `rail_check ${check.rail}`,
    {
      kind: SpanKind.INTERNAL,
      startTime: check.startedAt,
      attributes: {
        ...rail,
        'rxguardrails.rail.window_index': check.windowIndex,
        'rxguardrails.rail.verdict': verdict.kind,
        'rxguardrails.rail.allowed': verdict.allowed,
      },
    },
    parent,
  );
  // A violation is the rail doing its job; a rail that failed is an error, whichever way onError let it go.
  if (verdict.kind === 'internal_error') span.setStatus({ code: SpanStatusCode.ERROR, ...(verdict.reason ? { message: verdict.reason } : {}) });
  span.end(check.finishedAt);
  instruments.railCheckDuration.record(check.durationMs / 1000, { ...rail, 'rxguardrails.rail.verdict': verdict.kind });
  if (!verdict.allowed) instruments.blocks.add(1, rail);
}

function endRequest(span: Span, end: TelemetryRequestEnd): void {
  span.setAttribute('rxguardrails.outcome', end.outcome);
  if (end.blockedBy) span.setAttribute('rxguardrails.blocked.rail', end.blockedBy.rail);
  if (end.outcome === 'error') {
    const { error } = end;
    span.setAttribute(ERROR_TYPE, error instanceof Error ? error.name : '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end(end.finishedAt);
}
