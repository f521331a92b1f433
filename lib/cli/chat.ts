// The REPL of `rxguardrails chat`: reads questions line by line, keeps the conversation, and prints each answer as
// it ends (done, cancelled, blocked, failed). Where the answers come from is the answerer's business (answerers.ts).
import { createInterface } from 'node:readline';
import { REFUSAL } from '../core/refusals.js';
import type { ChatMessage } from '../core/types.js';
import type { AnswerFailure, Answerer } from './answerers.js';
import type { CliIO } from './CliIO.js';

/** Options of {@link chat}. */
export interface ChatOptions {
  /** Print tokens as they arrive; otherwise each answer is printed once it is complete. */
  readonly streaming: boolean;
  /** Print the answerer's `explain()` after each answer. */
  readonly verbose: boolean;
}

/** How one question ended. */
type Outcome = { readonly kind: 'done' | 'cancelled' } | AnswerFailure;

// ANSI SGR codes.
const GREEN = 32;
const YELLOW = 33;
const RED = 31;
const DIM = 2;

/**
 * Chats until the input ends (Ctrl-D) or Ctrl-C is pressed at the prompt; Ctrl-C during an answer unsubscribes from
 * it, which cancels it, and the chat goes on without that question. A blocked answer leaves the refusal in the
 * conversation (what the user was told instead); a cancelled or failed one leaves nothing.
 * @returns The exit code: 0.
 */
export async function chat(answerer: Answerer, options: ChatOptions, io: CliIO): Promise<number> {
  const paint = painter(io);
  const history: ChatMessage[] = [];
  const lines = createInterface({ input: io.stdin, terminal: io.stdin.isTTY === true && io.stdout.isTTY === true });
  const prompt = () => {
    if (io.stdin.isTTY) io.stdout.write('> ');
  };
  let cancelAnswer: (() => void) | undefined;
  const interrupt = () => {
    if (cancelAnswer) cancelAnswer();
    else lines.close();
  };
  // readline hears Ctrl-C on a terminal; a piped stdin leaves it to the process's SIGINT.
  lines.on('SIGINT', interrupt);
  io.signals?.on('SIGINT', interrupt);

  const print = (outcome: Outcome, text: string) => {
    // A streamed answer left the cursor after its last token.
    const endLine = options.streaming && text ? '\n' : '';
    switch (outcome.kind) {
      case 'done':
        io.stdout.write(options.streaming ? '\n' : `${paint(GREEN, text)}\n`);
        history.push({ role: 'assistant', content: text });
        break;
      case 'cancelled':
        io.stdout.write(`${endLine}${paint(YELLOW, '(answer cancelled)')}\n`);
        history.pop();
        break;
      case 'blocked':
        io.stdout.write(`${endLine}${paint(RED, `✖ ${outcome.message}`)}\n`);
        // What the user was told instead; the blocked text never enters the conversation.
        history.push({ role: 'assistant', content: REFUSAL });
        break;
      case 'failed':
        io.stdout.write(`${endLine}${paint(RED, `✖ ${outcome.message}`)}\n`);
        history.pop();
    }
  };

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
      const outcome = await new Promise<Outcome>((resolveTurn) => {
        // A copy: the conversation grows after this answer, while the answerer may still hold the messages it got.
        const subscription = answerer([...history]).subscribe({
          next: (token) => {
            shown.push(token);
            if (options.streaming) io.stdout.write(paint(GREEN, token));
          },
          error: (error: unknown) => resolveTurn(answerer.failure(error)),
          complete: () => resolveTurn({ kind: 'done' }),
        });
        cancelAnswer = () => {
          subscription.unsubscribe();
          resolveTurn({ kind: 'cancelled' });
        };
      });
      cancelAnswer = undefined;
      print(outcome, shown.join(''));
      if (options.verbose && answerer.explain) io.stdout.write(paint(DIM, answerer.explain()));
      prompt();
    }
  } finally {
    io.signals?.off('SIGINT', interrupt);
  }
  return 0;
}

/** Colours when forced (FORCE_COLOR), else on a terminal unless NO_COLOR is set. */
function painter(io: CliIO): (code: number, text: string) => string {
  const color = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0' ? true : io.stdout.isTTY === true && io.env.NO_COLOR === undefined;
  return (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
}
