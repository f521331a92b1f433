// createApp's telemetry option, through app.request() (no port): one request span per chat completion, its config id.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Telemetry } from 'rxguardrails';
import { openTelemetry } from 'rxguardrails/otel';
import { createApp, type ErrorContext } from 'rxguardrails/server';
import { CONFIGS } from '../server/serverHarness.js';

const completion = (configId: string, stream = false) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'any', config_id: configId, stream, messages: [{ role: 'user', content: 'Hi' }] }),
});

describe('createApp({ telemetry })', () => {
  it('should make a request span per completion, with its config id, and the calls and checks under it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('spec');
    const app = await createApp({ configDir: CONFIGS, telemetry: openTelemetry({ tracer }) });
    expect((await app.request('/v1/chat/completions', completion('strict'))).status).toBe(200);
    await (await app.request('/v1/chat/completions', completion('support', true))).text();
    const requests = exporter.getFinishedSpans().filter((span) => span.name.startsWith('rxguardrails '));
    expect(requests.map((span) => [span.name, span.attributes['rxguardrails.config.id'], span.attributes['rxguardrails.outcome']])).toEqual([
      ['rxguardrails generate', 'strict', 'blocked'],
      ['rxguardrails answer', 'support', expect.any(String)],
    ]);
    const strictChecks = exporter.getFinishedSpans().filter((span) => span.parentSpanContext?.spanId === requests[0]!.spanContext().spanId);
    expect(strictChecks.map((span) => span.name).sort()).toEqual(expect.arrayContaining(['chat scripted', 'rail_check keyword check']));
  });

  it('should report a hook that throws to onError once, and answer all the same', async () => {
    const errors: [unknown, ErrorContext][] = [];
    const telemetry: Telemetry = {
      request: () => {
        throw new Error('exporter down');
      },
    };
    const app = await createApp({ configDir: CONFIGS, telemetry, onError: (error, context) => errors.push([error, context]) });
    for (const configId of ['strict', 'support', 'strict']) {
      const response = await app.request('/v1/chat/completions', completion(configId));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).not.toBe('');
    }
    expect(errors).toEqual([[new Error('exporter down'), {}]]);
  });

  it('should refuse telemetry that is not one', async () => {
    await expect(createApp({ configDir: CONFIGS, telemetry: (() => undefined) as never })).rejects.toThrow(
      'createApp: telemetry must be a Telemetry (an object with request(start)), got a function',
    );
  });
});
