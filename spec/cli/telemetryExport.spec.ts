// The server's OpenTelemetry export, in-process: which variables turn it on and where each signal goes. What it
// sends is spec/cli/otelExport.spec.ts's (a real process and an OTLP receiver).
import { metrics, trace } from '@opentelemetry/api';
import { startTelemetryExport } from '../../lib/cli/telemetryExport.js';

describe('startTelemetryExport', () => {
  afterEach(() => {
    trace.disable();
    metrics.disable();
  });

  it('should start nothing without an OTLP endpoint in the environment', async () => {
    await expect(startTelemetryExport({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).resolves.toBeUndefined();
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'traces to http://collector:4318/v1/traces, metrics to http://collector:4318/v1/metrics'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom' }, 'traces to http://traces:4318/custom'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/m' }, 'traces to http://collector:4318/v1/traces, metrics to http://metrics:9000/m'],
  ])('should export each signal to its endpoint: %j', async (env, destinations) => {
    const exported = await startTelemetryExport(env);
    expect(exported?.destinations).toBe(destinations);
    // Nothing was recorded: the shutdown has nothing to send, and resolves.
    await expect(exported?.shutdown()).resolves.toBe(true);
  });

  it('should refuse an export interval that is not a whole number of milliseconds', async () => {
    await expect(startTelemetryExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).rejects.toThrow(
      "server: OTEL_METRIC_EXPORT_INTERVAL must be a whole number of milliseconds, got 'soon'",
    );
  });

  it('should name the packages to install when one is missing', async () => {
    let outcome: unknown;
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@opentelemetry/exporter-metrics-otlp-http', () => {
        throw new Error("Cannot find module '@opentelemetry/exporter-metrics-otlp-http'");
      });
      const isolated = (await import('../../lib/cli/telemetryExport.js')) as typeof import('../../lib/cli/telemetryExport.js');
      outcome = await isolated.startTelemetryExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).catch((error: unknown) => error);
    });
    expect(outcome).toEqual(
      expect.objectContaining({
        name: 'UsageError',
        exitCode: 1,
        message:
          "server: OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry is not installed: npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/sdk-metrics @opentelemetry/resources @opentelemetry/exporter-trace-otlp-http @opentelemetry/exporter-metrics-otlp-http (Cannot find module '@opentelemetry/exporter-metrics-otlp-http')",
      }),
    );
  });
});
