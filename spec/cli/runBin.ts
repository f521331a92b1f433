// The built `rxguardrails` bin as a real process with piped stdin, for the CLI specs where the process matters
// (signals, exit codes, what reaches the terminal).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'dist/esm/cli/bin.js');

export interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** Resolves once stdout (or stderr) contains `text`; rejects if the process exits first. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
}

/** Starts the bin with `args`, with no colours and no API keys unless `env` gives them. */
export function start(args: readonly string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', RXGUARDRAILS_API_KEY: '', ...env },
  });
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
