// OpenTelemetry: the spans of one guarded answer on the demo config (the main model, the `self check output` judge
// on each window, the keyword and regex rails), printed as a tree. In an app, register the SDK's providers with an
// OTLP exporter instead and call openTelemetry() with no arguments; `rxguardrails server` does that from
// OTEL_EXPORTER_OTLP_ENDPOINT.
//
//   npm install @opentelemetry/api @opentelemetry/sdk-trace-base
//   npx tsx examples/opentelemetry.ts
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LLMRails } from 'rxguardrails';
import { RailsConfig } from 'rxguardrails/node';
import { openTelemetry } from 'rxguardrails/otel';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('example');
const rails = new LLMRails(await RailsConfig.fromPath('examples/configs/demo'), { telemetry: openTelemetry({ tracer }) });

const answer = await rails.generate([{ role: 'user', content: 'How do I reset my router?' }]);
console.log(answer.content, '\n');

const spans = exporter.getFinishedSpans();
const startOf = (span: ReadableSpan) => span.startTime[0] * 1e3 + span.startTime[1] / 1e6;
const shown = (span: ReadableSpan) =>
  Object.entries(span.attributes)
    .filter(([key]) => /input_tokens|output_tokens|estimated|window_index|verdict|outcome$|task/.test(key))
    .map(([key, value]) => `${key.split('.').at(-1)}=${String(value)}`)
    .join(' ');
function print(parent: string | undefined, depth: number): void {
  const children = spans.filter((span) => span.parentSpanContext?.spanId === parent).sort((a, b) => startOf(a) - startOf(b));
  for (const span of children) {
    console.log(`${'  '.repeat(depth)}${span.name}  ${shown(span)}`);
    print(span.spanContext().spanId, depth + 1);
  }
}
print(undefined, 0);
