// The built `rxguardrails` bin as a real process, for the CLI specs where the process matters (signals, exit codes,
// what reaches the terminal): with piped stdin, or under a pseudo-terminal (pty.py) where the terminal matters.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type Screen, terminalScreen } from './terminalScreen.js';

export const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'dist/esm/cli/bin.js');
const PTY = resolve(__dirname, 'pty.py');

export interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** Resolves once stdout (or stderr) contains `text`; rejects if the process exits first. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
}

/** The environment of a run: no colours and no API keys unless `env` gives them. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', RXGUARDRAILS_API_KEY: '', ...env };
}

/** Starts the bin with `args`, with no colours and no API keys unless `env` gives them. */
export function start(args: readonly string[], env: Record<string, string> = {}): Run {
  return watch(spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: environment(env) }));
}

/** A run under a pseudo-terminal: `stdout` is what the terminal received (the bin's stdout and stderr, merged). */
export interface TerminalRun extends Run {
  /** Types `keys` (`\r` is Enter, `\u007f` Backspace, `\u001b[A` Up, `\u0004` Ctrl-D, `\u0003` Ctrl-C). */
  type(keys: string): void;
  /** What the terminal shows now. */
  screen(): Screen;
  /** Resolves once `predicate` holds for the screen; rejects if the process exits first, or after `timeoutMs`. */
  waitForScreen(predicate: (screen: Screen) => boolean, timeoutMs?: number): Promise<Screen>;
}

/** The terminal's width: wide enough that no line the specs print wraps. */
const COLUMNS = 200;

/** Starts the bin with `args` on a pseudo-terminal of its own (stdin, stdout and stderr are the terminal). */
export function startInTerminal(args: readonly string[], env: Record<string, string> = {}): TerminalRun {
  const child = spawn('python3', [PTY, String(COLUMNS), process.execPath, BIN, ...args], { cwd: ROOT, env: environment({ TERM: 'xterm', ...env }) });
  const run = watch(child);
  const screen = () => terminalScreen(run.stdout, COLUMNS);
  return Object.assign(run, {
    type: (keys: string) => void child.stdin.write(keys),
    screen,
    waitForScreen: (predicate: (screen: Screen) => boolean, timeoutMs = 5_000) =>
      new Promise<Screen>((resolveWait, reject) => {
        const finish = (outcome: () => void) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('close', exited);
          outcome();
        };
        const check = () => {
          const shown = screen();
          if (predicate(shown)) finish(() => resolveWait(shown));
        };
        const exited = () => finish(() => reject(new Error(`exited before the screen matched; it shows:\n${screen().lines.join('\n')}`)));
        // Not a measure of speed: a screen that never comes fails here with what it shows, not at jest's timeout.
        const timer = setTimeout(() => finish(() => reject(new Error(`the screen did not match in ${timeoutMs} ms; it shows:\n${screen().lines.join('\n')}`))), timeoutMs);
        child.stdout.on('data', check);
        child.once('close', exited);
        check();
      }),
  });
}

/** Collects a child's output and exit. */
function watch(child: ChildProcessWithoutNullStreams): Run {
  let closed = false;
  child.on('close', () => (closed = true));
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolveExit) => child.on('close', (code) => resolveExit(code))),
    waitFor: (text, stream = 'stdout') =>
      new Promise((resolveWait, reject) => {
        const found = () => run[stream].includes(text);
        const failed = () => reject(new Error(`exited before printing ${JSON.stringify(text)}; stdout: ${run.stdout}; stderr: ${run.stderr}`));
        const check = () => {
          if (!found()) return;
          child[stream].off('data', check);
          child.off('close', failed);
          resolveWait();
        };
        if (found()) return resolveWait();
        if (closed) return failed();
        child[stream].on('data', check);
        child.once('close', failed);
      }),
  };
  // Registered before any waitFor's listener, so a check sees the piece that triggered it.
  child.stdout.setEncoding('utf8').on('data', (piece: string) => (run.stdout += piece));
  child.stderr.setEncoding('utf8').on('data', (piece: string) => (run.stderr += piece));
  return run;
}

/** `rxguardrails chat ...args` with all of `input` on stdin (then closed), to its exit. */
export async function chat(args: readonly string[], input: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = start(['chat', ...args], env);
  run.child.stdin.end(input);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** `rxguardrails server ...args` once it listens, with its URL; `stop()` sends SIGTERM and gives the exit code. */
export async function startServer(args: readonly string[], env: Record<string, string> = {}): Promise<{ run: Run; url: string; stop(): Promise<number | null> }> {
  const run = start(['server', '--port', '0', ...args], env);
  await run.waitFor('listening on');
  const url = /listening on (http:\/\/\S+)/.exec(run.stdout)![1]!;
  return {
    run,
    url,
    stop: () => {
      run.child.kill('SIGTERM');
      return run.exited;
    },
  };
}
