// `rxguardrails server` with OTEL_EXPORTER_OTLP_ENDPOINT set, as a real process (the built bin): an OTLP/HTTP
// receiver on 127.0.0.1 (JSON, what the otlp-http exporters send) gets the spans and metrics of the completions the
// real openai client asked for, flushed when the server stops on SIGTERM.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startServer } from './runBin.js';

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/**
 * A collector's OTLP/HTTP endpoint, as small as it gets: every POST recorded, answered with an empty success; or, for
 * a collector that hangs, never answered.
 */
async function otlpReceiver(options: { answer?: boolean } = {}): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const { answer = true } = options;
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      if (!answer) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

type OtlpValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

/** OTLP JSON attributes as a plain object. */
function attributesOf(attributes: readonly OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue === undefined ? (value.boolValue ?? value.doubleValue) : Number(value.intValue))]));
}

interface OtlpSpan {
  name: string;
  spanId: string;
  traceId: string;
  parentSpanId?: string;
  attributes: OtlpAttribute[];
}

describe('rxguardrails server exporting OpenTelemetry', () => {
  it('should send the spans and metrics of its requests over OTLP/HTTP, flushed on SIGTERM', async () => {
    const receiver = await otlpReceiver();
    try {
      const server = await startServer(['--config', 'spec/fixtures/server-configs'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'guardrails-spec',
        // Longer than the test: the metrics arrive with the flush at shutdown.
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      });
      await server.run.waitFor('exporting OpenTelemetry');
      expect(server.run.stdout).toContain(`exporting OpenTelemetry traces to ${receiver.url}/v1/traces, metrics to ${receiver.url}/v1/metrics`);

      const client = new OpenAI({ apiKey: 'none', baseURL: `${server.url}/v1`, maxRetries: 0 });
      const blocked = await client.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'password?' }], config_id: 'strict' } as never);
      expect((blocked as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("I'm sorry, I can't respond to that.");
      const stream = await client.chat.completions.create({ model: 'any', stream: true, messages: [{ role: 'user', content: 'Hi' }], config_id: 'support' } as never);
      let text = '';
      for await (const chunk of stream as unknown as AsyncIterable<{ choices: { delta: { content?: string } }[] }>) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('Hello there! How can I help you today?');

      expect(await server.stop()).toBe(0);
      expect(server.run.stderr).toBe('');

      const traces = receiver.received.filter((entry) => entry.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.every((entry) => entry.contentType === 'application/json')).toBe(true);
      const resourceSpans = traces.flatMap((entry) => entry.body.resourceSpans as { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[]);
      expect(attributesOf(resourceSpans[0]!.resource.attributes)['service.name']).toBe('guardrails-spec');
      const spans = resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
      const requests = spans.filter((span) => span.name.startsWith('rxguardrails '));
      expect(requests.map((span) => [span.name, attributesOf(span.attributes)['rxguardrails.config.id'], attributesOf(span.attributes)['rxguardrails.outcome']]).sort()).toEqual([
        ['rxguardrails answer', 'support', 'completed'],
        ['rxguardrails generate', 'strict', 'blocked'],
      ]);
      const generate = requests.find((span) => span.name === 'rxguardrails generate')!;
      const underGenerate = spans.filter((span) => span.parentSpanId === generate.spanId);
      expect(underGenerate.every((span) => span.traceId === generate.traceId)).toBe(true);
      const chat = underGenerate.find((span) => span.name === 'chat scripted')!;
      expect(attributesOf(chat.attributes)).toEqual(
        expect.objectContaining({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'scripted', 'gen_ai.request.model': 'scripted', 'rxguardrails.task': 'general' }),
      );
      expect(underGenerate.filter((span) => span.name === 'rail_check keyword check').map((span) => attributesOf(span.attributes)['rxguardrails.rail.verdict'])).toContain('violation');

      const metricsPosts = receiver.received.filter((entry) => entry.path === '/v1/metrics');
      const metrics = metricsPosts.flatMap((entry) =>
        (entry.body.resourceMetrics as { scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { attributes: OtlpAttribute[]; asInt?: number | string }[] } }[] }[] }[]).flatMap((resource) =>
          resource.scopeMetrics.flatMap((scope) => scope.metrics),
        ),
      );
      expect(new Set(metrics.map((metric) => metric.name))).toEqual(
        new Set(['gen_ai.client.token.usage', 'gen_ai.client.operation.duration', 'rxguardrails.rail_check.duration', 'rxguardrails.blocks']),
      );
      const blocks = metrics.find((metric) => metric.name === 'rxguardrails.blocks')!.sum!.dataPoints;
      expect(blocks.map((point) => [attributesOf(point.attributes), Number(point.asInt)])).toEqual([[{ 'rxguardrails.rail.name': 'keyword check', 'rxguardrails.rail.side': 'output' }, 1]]);
    } finally {
      await receiver.close();
    }
  });
});

describe('rxguardrails server exporting to a collector that never answers', () => {
  it('should still stop on SIGTERM within its shutdown bound, exit code 0', async () => {
    const receiver = await otlpReceiver({ answer: false });
    try {
      const server = await startServer(['--config', 'spec/fixtures/server-configs/support'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      await server.run.waitFor('exporting OpenTelemetry');
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'any', messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(200);
      const stopping = performance.now();
      expect(await server.stop()).toBe(0);
      // 5 s for the last export (the collector holds it), then out: not the exporters' own 10 s, nor forever.
      expect(performance.now() - stopping).toBeLessThan(8_000);
      expect(server.run.stderr).toBe('rxguardrails server: the last OpenTelemetry export did not finish within 5 s; stopped without it\n');
      expect(receiver.received.map((entry) => entry.path).sort()).toEqual(['/v1/metrics', '/v1/traces']);
    } finally {
      await receiver.close();
    }
  }, 20_000);
});
