// `rxguardrails server`: createApp() served with @hono/node-server until SIGINT or SIGTERM, then drained.
import { serve } from '@hono/node-server';
import { formatConfigIssue } from '../errors/ConfigError.js';
import { createApp, drain } from '../server/createApp.js';
import type { CliIO } from './CliIO.js';
import { startTelemetryExport, type TelemetryExport } from './telemetryExport.js';
import { UsageError } from './UsageError.js';

/** What `rxguardrails server` serves, and where. */
export interface ServerCommandOptions {
  /** A config folder, or a folder of config folders. */
  readonly configDir: string;
  readonly port: number;
  readonly host: string;
  /** The bearer key every /v1 request must carry, when set. */
  readonly apiKey?: string;
  readonly defaultConfigId?: string;
  /** Origins browser apps may call from. */
  readonly corsOrigins: readonly string[];
  /** How long answers in flight may take to finish after SIGTERM or SIGINT, in ms. */
  readonly graceMs: number;
  /** How long a streaming client may leave frames unread before it is dropped, in ms. */
  readonly stallTimeoutMs: number;
  /** How many bytes of frames may wait for a streaming client that is behind before it is dropped. */
  readonly maxBufferedBytes: number;
  /** Serve the chat page at `/` (`--disable-chat-ui` turns it off). */
  readonly chatUi: boolean;
  /** Failures reach clients without their detail, which goes to stderr (`--hide-error-detail`; createApp's option). */
  readonly hideErrorDetail: boolean;
}

/** After the grace period, how long ended answers' connections may take to close before they are cut. */
const CLOSE_WAIT_MS = 1_000;

/**
 * Loads the configs (a bad one throws its ConfigError before anything listens), listens, prints the address, and
 * serves until SIGINT or SIGTERM. Then it stops accepting connections, lets the answers in flight finish within the
 * grace period (the rest end with an error frame and `data: [DONE]`), closes the connections and returns 0.
 * Config warnings, the server's unexpected errors (with the request id) and promises rejected with no one to catch
 * them (a custom rail's stray promise, which must not take every stream down) go to the command's stderr.
 * With `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces or metrics endpoint) in the environment, spans and metrics are
 * exported over OTLP/HTTP, and flushed once the answers in flight are drained.
 * @returns 0 once stopped by a signal.
 * @throws UsageError when the port is in use.
 */
export async function serverCommand(options: ServerCommandOptions, io: CliIO): Promise<number> {
  const exported = await startTelemetryExport(io.env);
  try {
    return await serveApp(options, io, exported);
  } finally {
    // After the last answer: its spans are in the final export.
    if (exported && !(await exported.shutdown())) io.stderr.write('rxguardrails server: the last OpenTelemetry export did not finish within 5 s; stopped without it\n');
  }
}

async function serveApp(options: ServerCommandOptions, io: CliIO, exported: TelemetryExport | undefined): Promise<number> {
  const { configDir, port, host, apiKey, defaultConfigId, corsOrigins, graceMs, stallTimeoutMs, maxBufferedBytes, chatUi, hideErrorDetail } = options;
  const app = await createApp({
    configDir,
    apiKey,
    corsOrigins,
    stallTimeoutMs,
    maxBufferedBytes,
    chatUi,
    hideErrorDetail,
    ...(defaultConfigId ? { defaultConfigId } : {}),
    ...(exported ? { telemetry: exported.telemetry } : {}),
    // The command's own stderr, not the console: a test (or an embedding program) gives main() streams of its own.
    onWarning: (warning) => io.stderr.write(`rxguardrails: ${formatConfigIssue(warning)}\n`),
    onError: (error, context) => io.stderr.write(`rxguardrails server: ${context.requestId ? `request ${context.requestId}: ` : ''}${describe(error)}\n`),
  });
  const stray = (reason: unknown) => io.stderr.write(`rxguardrails server: a promise was rejected and nothing caught it (serving on): ${describe(reason)}\n`);
  io.strays?.on('unhandledRejection', stray);
  return new Promise<number>((resolveRun, reject) => {
    const listener = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      io.stdout.write(`rxguardrails server listening on http://${host}:${info.port}\n`);
      if (chatUi) io.stdout.write(`Chat UI: http://${host.includes(':') ? `[${host}]` : host}:${info.port}/\n`);
      if (exported) io.stdout.write(`rxguardrails server: exporting OpenTelemetry ${exported.destinations}\n`);
    });
    const forget = () => {
      io.signals?.off('SIGINT', stop);
      io.signals?.off('SIGTERM', stop);
      io.strays?.off('unhandledRejection', stray);
    };
    listener.once('error', (error: NodeJS.ErrnoException) => {
      forget();
      reject(error.code === 'EADDRINUSE' ? new UsageError(`server: port ${port} is in use on ${host}`, 1) : error);
    });
    const connections = listener as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      io.signals?.off('SIGINT', stop);
      io.signals?.off('SIGTERM', stop);
      // No new connections; keep-alive ones idle now are closed, busy ones when their answer ends (Connection: close).
      listener.close(() => {
        forget();
        resolveRun(0);
      });
      void drain(app, { graceMs }).then(() => {
        connections.closeIdleConnections?.();
        // A connection still open now carries nothing the server owes: it may not keep the process alive.
        setTimeout(() => connections.closeAllConnections?.(), CLOSE_WAIT_MS).unref();
      });
    };
    io.signals?.on('SIGINT', stop);
    io.signals?.on('SIGTERM', stop);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
