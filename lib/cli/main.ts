// The rxguardrails command line: `rxguardrails chat` and `rxguardrails server`. bin.ts calls main(); tests call
// it in-process or run the bin as a real process. This file reads the command line and reports errors; the chat
// (chat.ts, answerers.ts) and the server (serverCommand.ts) live in their own modules.
import { readFileSync, statSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../errors/ConfigError.js';
import { GuardrailError } from '../errors/GuardrailError.js';
import { configFolders } from '../node/configFolders.js';
import { RailsConfig } from '../node/RailsConfig.js';
import { localAnswerer, remoteAnswerer } from './answerers.js';
import { chat, DEFAULT_HISTORY_CHARS } from './chat.js';
import type { CliIO } from './CliIO.js';
import { serverCommand, type ServerCommandOptions } from './serverCommand.js';
import { UsageError } from './UsageError.js';

export type { CliIO } from './CliIO.js';

/** What `rxguardrails chat --help` prints. */
const CHAT_USAGE = `Usage:
  rxguardrails chat --config <dir> [--config-id <id>] [--streaming] [--verbose] [--history-chars ${DEFAULT_HISTORY_CHARS}]
  rxguardrails chat --server-url <url> [--config-id <id>] [--streaming] [--verbose] [--history-chars ${DEFAULT_HISTORY_CHARS}]

  Talk to a guarded model. --config is a config folder, or a folder of config folders (as the server reads it), of
  which --config-id chooses one; --server-url talks to a running rxguardrails server instead (--config-id: which of
  its configs). --streaming prints tokens as they arrive; --verbose prints the LLM calls of each answer. A block by
  an input or output rail prints one red line. Each question is sent with as much of the latest conversation as fits
  in --history-chars characters of message text; older messages are dropped (said once, when it first happens).
  Ctrl-C cancels the answer in progress (and its model request); Ctrl-C at the prompt or Ctrl-D ends the chat.`;

/** What `rxguardrails server --help` prints. */
const SERVER_USAGE = `Usage:
  rxguardrails server --config <dir> [--port 8000] [--host 127.0.0.1] [--api-key-file <path>] [--default-config-id <id>]
                      [--cors-origin <origin>]... [--shutdown-grace-ms 10000] [--stall-timeout-ms 30000]
                      [--max-buffered-bytes 1048576] [--disable-chat-ui] [--hide-error-detail]

  Serve the config(s) as an OpenAI-compatible API (POST /v1/chat/completions), and a chat page at / to try them
  (--disable-chat-ui turns it off); the API key comes from
  RXGUARDRAILS_API_KEY or --api-key-file (--api-key <key> works too, but other users see it in the process list);
  --cors-origin lets a browser app on that origin call it; on SIGTERM or SIGINT answers in flight get
  --shutdown-grace-ms to finish; a streaming client that stops reading is dropped after --stall-timeout-ms, or once
  --max-buffered-bytes of frames wait for it; --hide-error-detail answers a failed rail or provider without the
  error's own text (it goes to stderr with the request id). With OTEL_EXPORTER_OTLP_ENDPOINT (or
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) set, spans and metrics are exported over OTLP/HTTP (the @opentelemetry/*
  packages named in the README must be installed).`;

/** What `rxguardrails --help` prints. */
const USAGE = `Usage:
  rxguardrails chat --config <dir> [--config-id <id>] [--streaming] [--verbose] [--history-chars ${DEFAULT_HISTORY_CHARS}]
  rxguardrails chat --server-url <url> [--config-id <id>] [--streaming] [--verbose] [--history-chars ${DEFAULT_HISTORY_CHARS}]
  rxguardrails server --config <dir> [--port 8000] [--host 127.0.0.1] [--api-key-file <path>] [--default-config-id <id>]
                      [--cors-origin <origin>]... [--shutdown-grace-ms 10000] [--stall-timeout-ms 30000]
                      [--max-buffered-bytes 1048576]
  rxguardrails --version

  chat     talk to a guarded model (rxguardrails chat --help)
  server   serve the config(s) as an OpenAI-compatible API (rxguardrails server --help)`;

/**
 * Runs one `rxguardrails` command. Mistakes the user can fix (usage, a bad config, a missing key) are reported in
 * one line on stderr; anything unexpected with its stack.
 * @param argv The arguments after the program name (`['chat', '--config', 'dir']`).
 * @param io Where to read and write; the process's streams and signals by default.
 * @returns The exit code: 0, 1 for an error, 2 for a command-line mistake.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'chat':
        return await chatCommand(rest, io);
      case 'server': {
        const options = serverOptions(rest, io);
        if (options === 'help') {
          io.stdout.write(`${SERVER_USAGE}\n`);
          return 0;
        }
        return await serverCommand(options, io);
      }
      case '--version':
      case '-v':
        io.stdout.write(`${await packageVersion()}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        // A bare `rxguardrails` is a mistake (no command), still worth the usage: printed, with exit code 2.
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (commands: chat, server; see rxguardrails --help)`);
    }
  } catch (error) {
    return report(error, io);
  }
}

/** Writes what went wrong to stderr and gives the exit code. */
function report(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`rxguardrails: ${error.message}\n`);
    return error.exitCode;
  }
  if (ConfigError.isInstance(error)) {
    const more = error.issues.length - 1;
    io.stderr.write(`rxguardrails: ${error.message.split('\n')[0]}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}\n`);
    return 1;
  }
  if (GuardrailError.isInstance(error)) {
    io.stderr.write(`rxguardrails: ${error.message}\n`);
    return 1;
  }
  io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** parseArgs, with its errors as one-line usage errors. */
function parse<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify.*$/s, '').replace(/^Unknown option/, 'unknown option');
    throw new UsageError(`${command}: ${message} (see rxguardrails --help)`);
  }
}

async function chatCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse('chat', {
    args: [...args],
    strict: true,
    options: {
      config: { type: 'string' },
      streaming: { type: 'boolean', default: false },
      'server-url': { type: 'string' },
      'config-id': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'history-chars': { type: 'string', default: String(DEFAULT_HISTORY_CHARS) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${CHAT_USAGE}\n`);
    return 0;
  }
  const { config, 'server-url': serverUrl, 'config-id': configId } = values;
  if (!config && !serverUrl) throw new UsageError('chat needs --config <dir> (or --server-url <url>)');
  if (config && serverUrl) throw new UsageError('chat takes --config or --server-url, not both');
  const historyChars = wholeNumber('chat', '--history-chars', values['history-chars'], 1);
  const answerer = serverUrl ? await remoteAnswerer(serverUrl, configId, io.env) : localAnswerer(await RailsConfig.fromPath(chosenConfig(config!, configId)));
  return chat(answerer, { streaming: values.streaming === true, verbose: values.verbose === true, historyChars }, io);
}

/**
 * The config `chat --config` talks to, read as the server reads `--config`: a folder holding a config.yml is that
 * config; otherwise each of its sub-folders that does is one, of which `--config-id` chooses (and must, when there
 * are several). A YAML file, or a path that does not exist, goes to RailsConfig.fromPath as given, which reads the
 * one and reports the other.
 * @throws UsageError when the id is not one of the folder's (or the path is a file), or there are several configs and no id.
 */
function chosenConfig(path: string, configId: string | undefined): string {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats?.isFile() && configId !== undefined) throw new UsageError(`chat: --config-id chooses among a folder's configs, and ${path} is a file`);
  if (!stats?.isDirectory()) return path;
  const folders = configFolders(path);
  const ids = folders.map(([id]) => id).join(', ');
  if (configId !== undefined) {
    const chosen = folders.find(([id]) => id === configId);
    if (!chosen) throw new UsageError(`chat: no config '${configId}' in ${path} (its configs: ${ids})`);
    return chosen[1];
  }
  if (folders.length > 1) throw new UsageError(`chat: ${path} holds ${folders.length} configs; choose one with --config-id: ${ids}`);
  return folders[0]![1];
}

/** This package's version, from its package.json (found by the package's own name, which `exports` lists). */
async function packageVersion(): Promise<string> {
  // A computed specifier: TypeScript would otherwise resolve (and type) the JSON file, which is outside lib/.
  const name = 'rxguardrails/package.json';
  // The ES module build (the bin's) needs the JSON attribute; the CommonJS build's compiler refuses it (TS1324) and
  // compiles import() to require(). The CLI is not an entry of the CommonJS build, so only the check is silenced.
  // @ts-ignore TS1324 in the CommonJS build only
  const { default: manifest } = (await import(name, { with: { type: 'json' } })) as { default: { version: string } };
  return manifest.version;
}

/** The server command's options, or 'help' for `server --help`. */
function serverOptions(args: readonly string[], io: CliIO): ServerCommandOptions | 'help' {
  const { values } = parse('server', {
    args: [...args],
    strict: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      'api-key-file': { type: 'string' },
      'default-config-id': { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      'shutdown-grace-ms': { type: 'string', default: '10000' },
      'stall-timeout-ms': { type: 'string', default: '30000' },
      'max-buffered-bytes': { type: 'string', default: String(1024 * 1024) },
      'disable-chat-ui': { type: 'boolean', default: false },
      'hide-error-detail': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (!values.config) throw new UsageError('server needs --config <dir>');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`server: --port must be a port number, got '${values.port}'`);
  const graceMs = wholeNumber('server', '--shutdown-grace-ms', values['shutdown-grace-ms'], 0);
  const stallTimeoutMs = wholeNumber('server', '--stall-timeout-ms', values['stall-timeout-ms'], 1);
  const maxBufferedBytes = wholeNumber('server', '--max-buffered-bytes', values['max-buffered-bytes'], 1);
  if (values['api-key'] !== undefined && values['api-key-file'] !== undefined) throw new UsageError('server takes --api-key or --api-key-file, not both');
  if (values['api-key'] !== undefined) {
    io.stderr.write('rxguardrails: warning: --api-key is visible to other users in the process list; prefer RXGUARDRAILS_API_KEY or --api-key-file\n');
  }
  return {
    configDir: values.config,
    port,
    host: values.host,
    apiKey: values['api-key'] || (values['api-key-file'] ? keyFromFile(values['api-key-file']) : undefined) || io.env.RXGUARDRAILS_API_KEY || undefined,
    defaultConfigId: values['default-config-id'] || undefined,
    corsOrigins: values['cors-origin'] ?? [],
    graceMs,
    stallTimeoutMs,
    maxBufferedBytes,
    chatUi: !values['disable-chat-ui'],
    hideErrorDetail: values['hide-error-detail'],
  };
}

function wholeNumber(command: string, flag: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < minimum) throw new UsageError(`${command}: ${flag} must be a whole number${minimum > 0 ? ` of at least ${minimum}` : ''}, got '${text}'`);
  return value;
}

/** The key in a file (a secret mounted by the platform): its content, without the trailing newline. */
function keyFromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`server: cannot read --api-key-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 1);
  }
  const key = text.trim();
  if (key === '' || /\s/.test(key)) throw new UsageError(`server: --api-key-file ${path} must hold one key on one line`, 1);
  return key;
}

function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process, strays: process };
}
