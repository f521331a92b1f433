// The rxguardrails command line: `rxguardrails chat` and `rxguardrails server`. bin.ts calls main(); tests call
// it in-process or run the bin as a real process.
import { createInterface } from 'node:readline';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import type { Subscription } from 'rxjs';
import { ConfigError } from '../errors/ConfigError.js';
import { GuardrailError } from '../errors/GuardrailError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { LLMRails } from '../llm/LLMRails.js';
import { RailsConfig } from '../node/RailsConfig.js';
import { REFUSAL } from '../core/refusals.js';
import type { ChatMessage } from '../core/types.js';
import { createApp } from '../server/createApp.js';

/** What the CLI reads and writes; tests give their own. */
export interface CliIO {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where Ctrl-C is heard: the process (signals) in real use. */
  readonly signals?: { on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown; off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown };
}

const USAGE = `Usage:
  rxguardrails chat --config <dir> [--streaming] [--verbose]
  rxguardrails chat --server-url <url> [--config-id <id>] [--streaming] [--verbose]
  rxguardrails server --config <dir> [--port 8000] [--host 127.0.0.1] [--api-key <key>] [--default-config-id <id>]

  chat     talk to a guarded model; --streaming prints tokens as they arrive, --verbose prints explain() after
           each answer, Ctrl-C cancels the answer in progress (and its model request), Ctrl-D ends the chat
  server   serve the config(s) as an OpenAI-compatible API (POST /v1/chat/completions); the API key may also
           come from RXGUARDRAILS_API_KEY`;

/** A mistake the user can fix: reported in one line, exit code 1 (2 for command-line usage). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'chat':
        return await chat(rest, io);
      case 'server':
        return await server(rest, io);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (commands: chat, server; see rxguardrails --help)`);
    }
  } catch (error) {
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

async function chat(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse('chat', {
    args: [...args],
    strict: true,
    options: {
      config: { type: 'string' },
      streaming: { type: 'boolean', default: false },
      'server-url': { type: 'string' },
      'config-id': { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (!values.config && !values['server-url']) throw new UsageError('chat needs --config <dir> (or --server-url <url>)');
  if (values.config && values['server-url']) throw new UsageError('chat takes --config or --server-url, not both');
  const paint = painter(io);
  const answer = values['server-url']
    ? await remoteAnswer(values['server-url'], values['config-id'], io)
    : localAnswer(new LLMRails(await RailsConfig.fromPath(values.config!)));
  const streaming = values.streaming === true;

  const history: ChatMessage[] = [];
  const lines = createInterface({ input: io.stdin, terminal: io.stdin.isTTY === true && io.stdout.isTTY === true });
  const prompt = () => {
    if (io.stdin.isTTY) io.stdout.write('> ');
  };
  let current: { cancel(): void } | undefined;
  const interrupt = () => {
    if (current) {
      current.cancel();
      return;
    }
    lines.close();
  };
  lines.on('SIGINT', interrupt);
  io.signals?.on('SIGINT', interrupt);
  prompt();
  try {
    for await (const line of lines) {
      const question = line.trim();
      if (question === '') {
        prompt();
        continue;
      }
      history.push({ role: 'user', content: question });
      const shown: string[] = [];
      const outcome = await new Promise<{ kind: 'done' | 'cancelled' } | { kind: 'blocked' | 'failed'; message: string }>((resolveTurn) => {
        const turn = answer(history, streaming, {
          token: (token) => {
            shown.push(token);
            if (streaming) io.stdout.write(paint(32, token));
          },
          done: () => resolveTurn({ kind: 'done' }),
          blocked: (message) => resolveTurn({ kind: 'blocked', message }),
          failed: (error) => resolveTurn({ kind: 'failed', message: errorText(error) }),
        });
        current = {
          cancel: () => {
            turn.unsubscribe();
            resolveTurn({ kind: 'cancelled' });
          },
        };
      });
      current = undefined;
      const text = shown.join('');
      const endLine = streaming && text ? '\n' : '';
      switch (outcome.kind) {
        case 'done':
          io.stdout.write(streaming ? '\n' : `${paint(32, text)}\n`);
          history.push({ role: 'assistant', content: text });
          break;
        case 'cancelled':
          io.stdout.write(`${endLine}${paint(33, '(answer cancelled)')}\n`);
          history.pop();
          break;
        case 'blocked':
          io.stdout.write(`${endLine}${paint(31, `✖ ${outcome.message}`)}\n`);
          // What the user was told instead; the blocked text never enters the conversation.
          history.push({ role: 'assistant', content: REFUSAL });
          break;
        case 'failed':
          io.stdout.write(`${endLine}${paint(31, `✖ ${outcome.message}`)}\n`);
          history.pop();
      }
      if (values.verbose && answer.explain) io.stdout.write(paint(2, answer.explain()));
      prompt();
    }
  } finally {
    io.signals?.off('SIGINT', interrupt);
  }
  return 0;
}

interface TurnObserver {
  token(token: string): void;
  done(): void;
  /** A rail blocked the answer; the message says which and why. */
  blocked(message: string): void;
  failed(error: unknown): void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Answer = ((history: readonly ChatMessage[], streaming: boolean, observer: TurnObserver) => { unsubscribe(): void }) & { explain?: () => string };

function localAnswer(rails: LLMRails): Answer {
  const answer: Answer = (history, streaming, observer) => {
    const report = (error: unknown) => {
      if (RailViolationError.isInstance(error)) observer.blocked(`${error.message}${error.info.verdict.reason ? ` (${error.info.verdict.reason})` : ''}`);
      else observer.failed(error);
    };
    if (!streaming) {
      const controller = new AbortController();
      rails.generate([...history], { signal: controller.signal }).then(
        (message) => {
          observer.token(message.content);
          observer.done();
        },
        (error: unknown) => {
          if (!controller.signal.aborted) report(error);
        },
      );
      return { unsubscribe: () => controller.abort() };
    }
    const subscription: Subscription = rails.stream([...history]).subscribe({ next: observer.token, error: report, complete: observer.done });
    return subscription;
  };
  answer.explain = () => rails.explain().summary();
  return answer;
}

interface RemoteStream extends AsyncIterable<{ choices: { delta?: { content?: string | null } }[] }> {
  controller: AbortController;
}

async function remoteAnswer(serverUrl: string, configId: string | undefined, io: CliIO): Promise<Answer> {
  let OpenAI: new (options: { apiKey: string; baseURL: string; maxRetries: number }) => {
    chat: { completions: { create(body: object, options?: { signal?: AbortSignal }): Promise<unknown> } };
  };
  try {
    // A computed specifier: the SDK is an optional peer dependency, needed only here.
    const name = 'openai';
    ({ default: OpenAI } = (await import(name)) as { default: typeof OpenAI });
  } catch {
    throw new UsageError('--server-url needs the openai package: npm install openai', 1);
  }
  const client = new OpenAI({ apiKey: io.env.RXGUARDRAILS_API_KEY || 'none', baseURL: `${serverUrl.replace(/\/+$/, '')}/v1`, maxRetries: 0 });
  return (history, streaming, observer) => {
    const controller = new AbortController();
    const body = { model: 'rxguardrails', messages: history, stream: streaming, ...(configId ? { config_id: configId } : {}) };
    void (async () => {
      try {
        const response = await client.chat.completions.create(body, { signal: controller.signal });
        if (streaming) {
          for await (const chunk of response as RemoteStream) {
            const content = chunk.choices[0]?.delta?.content;
            if (content) observer.token(content);
          }
        } else {
          const completion = response as { choices: { message: { content: string } }[]; guardrails?: { violation?: { message: string } } };
          if (completion.guardrails?.violation) {
            observer.blocked(completion.guardrails.violation.message);
            return;
          }
          observer.token(completion.choices[0]?.message.content ?? '');
        }
        if (!controller.signal.aborted) observer.done();
      } catch (error) {
        if (controller.signal.aborted) return;
        const violation = (error as { error?: { type?: string; message?: string } } | null)?.error;
        if (violation?.type === 'guardrails_violation') observer.blocked(violation.message ?? 'blocked');
        else observer.failed(error);
      }
    })();
    return { unsubscribe: () => controller.abort() };
  };
}

async function server(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse('server', {
    args: [...args],
    strict: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      'default-config-id': { type: 'string' },
    },
  });
  if (!values.config) throw new UsageError('server needs --config <dir>');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`server: --port must be a port number, got '${values.port}'`);
  const app = await createApp({
    configDir: values.config,
    apiKey: values['api-key'] || io.env.RXGUARDRAILS_API_KEY || undefined,
    ...(values['default-config-id'] ? { defaultConfigId: values['default-config-id'] } : {}),
  });
  return new Promise<number>((resolveRun, reject) => {
    const listener = serve({ fetch: app.fetch, port, hostname: values.host }, (info) => {
      io.stdout.write(`rxguardrails server listening on http://${values.host}:${info.port}\n`);
    });
    listener.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new UsageError(`server: port ${port} is in use on ${values.host}`, 1) : error);
    });
    const stop = () => {
      io.signals?.off('SIGINT', stop);
      io.signals?.off('SIGTERM', stop);
      listener.close(() => resolveRun(0));
      (listener as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    };
    io.signals?.on('SIGINT', stop);
    io.signals?.on('SIGTERM', stop);
  });
}

function painter(io: CliIO): (code: number, text: string) => string {
  const color = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0' ? true : io.stdout.isTTY === true && io.env.NO_COLOR === undefined;
  return (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
}

function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process };
}
