// `rxguardrails server`'s OpenTelemetry export: when the standard OTLP endpoint variables are set, the SDK's tracer and
// meter providers with OTLP/HTTP (JSON) exporters, and openTelemetry() over them for createApp. Every package is an
// optional peer, imported here only when asked for: a server without them installed starts as before.
import type { Telemetry } from '../core/types.js';
import { UsageError } from './UsageError.js';

/** The variables that turn export on: the base endpoint (`/v1/traces`, `/v1/metrics` added), or a signal's own. */
const BASE = 'OTEL_EXPORTER_OTLP_ENDPOINT';
const TRACES = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const METRICS = 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT';

/** What `npm install` needs for the export. */
export const TELEMETRY_PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/resources',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-metrics-otlp-http',
] as const;

/**
 * How long the last export may take at shutdown before the server exits without it; also each export request's
 * bound (unless OTEL_EXPORTER_OTLP_TIMEOUT says otherwise), so that a collector that never answers holds no socket
 * open, and so the process, past it.
 */
const SHUTDOWN_TIMEOUT_MS = 5_000;

/** The export, running: the telemetry to give createApp, and its shutdown (which flushes what is pending). */
export interface TelemetryExport {
  readonly telemetry: Telemetry;
  /** Where the spans and metrics go, for the startup line. */
  readonly destinations: string;
  /**
   * Exports what is pending and stops; resolves within a few seconds even when the collector does not answer: true
   * once the export finished (or failed), false when the bound cut it short.
   */
  shutdown(): Promise<boolean>;
}

/**
 * Starts the export when `env` names an OTLP endpoint, else resolves undefined. Traces go to
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; metrics likewise (every
 * `OTEL_METRIC_EXPORT_INTERVAL` ms, default 60000); a signal without an endpoint is not exported. The service is
 * `OTEL_SERVICE_NAME`, default `rxguardrails`.
 * @throws UsageError naming the packages to install when one is missing.
 */
export async function startTelemetryExport(env: Readonly<Record<string, string | undefined>>): Promise<TelemetryExport | undefined> {
  const base = env[BASE]?.trim() || undefined;
  const tracesUrl = env[TRACES]?.trim() || (base && signalUrl(base, 'traces'));
  const metricsUrl = env[METRICS]?.trim() || (base && signalUrl(base, 'metrics'));
  if (!tracesUrl && !metricsUrl) return undefined;
  const intervalMs = exportInterval(env.OTEL_METRIC_EXPORT_INTERVAL);

  let modules;
  try {
    modules = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
      import('../otel/index.js'),
    ]);
  } catch (error) {
    throw new UsageError(
      `server: ${[BASE, TRACES, METRICS].filter((name) => env[name]).join(', ')} is set, but OpenTelemetry is not installed: npm install ${TELEMETRY_PACKAGES.join(' ')} (${String((error as Error).message ?? error).split('\n')[0]})`,
      1,
    );
  }
  const [api, traceSdk, metricsSdk, resources, traceExporter, metricsExporter, otel] = modules;
  // The exporters read OTEL_EXPORTER_OTLP_TIMEOUT (and _HEADERS) themselves when it is set.
  const bound = env.OTEL_EXPORTER_OTLP_TIMEOUT ? {} : { timeoutMillis: SHUTDOWN_TIMEOUT_MS };
  const resource = resources.resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'rxguardrails' });
  const tracerProvider = tracesUrl
    ? new traceSdk.BasicTracerProvider({ resource, spanProcessors: [new traceSdk.BatchSpanProcessor(new traceExporter.OTLPTraceExporter({ url: tracesUrl, ...bound }))] })
    : undefined;
  const meterProvider = metricsUrl
    ? new metricsSdk.MeterProvider({
        resource,
        readers: [new metricsSdk.PeriodicExportingMetricReader({ exporter: new metricsExporter.OTLPMetricExporter({ url: metricsUrl, ...bound }), exportIntervalMillis: intervalMs })],
      })
    : undefined;
  // Registered globally too, so that a config's own rails (rails.js) can add spans and metrics to the same export.
  if (tracerProvider) api.trace.setGlobalTracerProvider(tracerProvider);
  if (meterProvider) api.metrics.setGlobalMeterProvider(meterProvider);
  const telemetry = otel.openTelemetry({
    ...(tracerProvider ? { tracer: tracerProvider.getTracer('rxguardrails') } : {}),
    ...(meterProvider ? { meter: meterProvider.getMeter('rxguardrails') } : {}),
  });
  return {
    telemetry,
    destinations: [tracesUrl && `traces to ${tracesUrl}`, metricsUrl && `metrics to ${metricsUrl}`].filter(Boolean).join(', '),
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout(false), SHUTDOWN_TIMEOUT_MS);
        timer.unref();
      });
      // An export that fails (the collector is down) goes to the SDK's own diagnostics; the server stops all the same.
      const flushed = Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]).then(() => true);
      const finished = await Promise.race([flushed, timeout]);
      clearTimeout(timer);
      return finished;
    },
  };
}

/** The base endpoint with the signal's path, as the OTLP exporter specification builds it. */
function signalUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

function exportInterval(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 60_000;
  const interval = Number(value);
  if (!Number.isInteger(interval) || interval < 1) throw new UsageError(`server: OTEL_METRIC_EXPORT_INTERVAL must be a whole number of milliseconds, got '${value}'`, 2);
  return interval;
}
