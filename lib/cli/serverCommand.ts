// `rxguardrails server`: createApp() served with @hono/node-server until SIGINT or SIGTERM.
import { serve } from '@hono/node-server';
import { formatConfigIssue } from '../errors/ConfigError.js';
import { createApp } from '../server/createApp.js';
import type { CliIO } from './CliIO.js';
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
}

/**
 * Loads the configs (a bad one throws its ConfigError before anything listens), listens, prints the address, and
 * serves until SIGINT or SIGTERM, then closes the listener and the connections still open. Config warnings and the
 * server's unexpected errors go to the command's stderr.
 * @returns 0 once stopped by a signal.
 * @throws UsageError when the port is in use.
 */
export async function serverCommand(options: ServerCommandOptions, io: CliIO): Promise<number> {
  const { configDir, port, host, apiKey, defaultConfigId } = options;
  const app = await createApp({
    configDir,
    apiKey,
    ...(defaultConfigId ? { defaultConfigId } : {}),
    // The command's own stderr, not the console: a test (or an embedding program) gives main() streams of its own.
    onWarning: (warning) => io.stderr.write(`rxguardrails: ${formatConfigIssue(warning)}\n`),
    onError: (error) => io.stderr.write(`rxguardrails server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  return new Promise<number>((resolveRun, reject) => {
    const listener = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      io.stdout.write(`rxguardrails server listening on http://${host}:${info.port}\n`);
    });
    const forgetSignals = () => {
      io.signals?.off('SIGINT', stop);
      io.signals?.off('SIGTERM', stop);
    };
    listener.once('error', (error: NodeJS.ErrnoException) => {
      forgetSignals();
      reject(error.code === 'EADDRINUSE' ? new UsageError(`server: port ${port} is in use on ${host}`, 1) : error);
    });
    const stop = () => {
      forgetSignals();
      listener.close(() => resolveRun(0));
      // Streams still open would keep close() waiting for as long as their clients stay.
      (listener as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    };
    io.signals?.on('SIGINT', stop);
    io.signals?.on('SIGTERM', stop);
  });
}
