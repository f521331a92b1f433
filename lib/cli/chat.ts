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
  /**
   * How many characters of message text each question is sent with: the question, and as many of the latest
   * messages before it as fit (the conversation starting at a user message). Older messages are forgotten.
   * @default DEFAULT_HISTORY_CHARS (20,000)
   */
  readonly historyChars?: number;
}

/**
 * The conversation a question is sent with, in characters of message text: about 5,000 tokens, far below a model's
 * context and the server's 1 MiB body limit, and it keeps each turn's cost bounded however long the chat runs.
 */
export const DEFAULT_HISTORY_CHARS = 20_000;

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
 * conversation (what the user was told instead); a cancelled or failed one leaves nothing. Each question is sent
 * with the latest messages that fit in `historyChars`; the first time older ones are dropped, a line says so.
 * On a terminal, readline echoes what is typed (and history recalled with the arrow keys) to stdout.
 * @returns The exit code: 0.
 */
export async function chat(answerer: Answerer, options: ChatOptions, io: CliIO): Promise<number> {
  const { historyChars = DEFAULT_HISTORY_CHARS } = options;
  const paint = painter(io);
  const history: ChatMessage[] = [];
  let trimmed = false;
  // readline needs the output to echo what is typed, to edit the line and to show a recalled one: without it, on a
  // terminal (raw mode, so the terminal itself echoes nothing) typing is invisible and Up sends an unseen line.
  const lines = createInterface({ input: io.stdin, output: io.stdout, prompt: '> ', terminal: io.stdin.isTTY === true && io.stdout.isTTY === true });
  /** Whether the prompt was the last thing printed: the cursor is then mid-line, after it (and what was typed). */
  let atPrompt = false;
  let inputEnded = false;
  lines.once('close', () => (inputEnded = true));
  const prompt = () => {
    // After Ctrl-D during an answer there is nothing more to read: prompting would resume the input, and wait on it.
    if (!io.stdin.isTTY || inputEnded) return;
    lines.prompt();
    atPrompt = true;
  };
  let cancelAnswer: (() => void) | undefined;
  const interrupt = () => {
    if (cancelAnswer) cancelAnswer();
    else lines.close();
  };
  // readline hears Ctrl-C on a terminal; a piped stdin leaves it to the process's SIGINT.
  lines.on('SIGINT', interrupt);
  io.signals?.on('SIGINT', interrupt);

  /** Drops the oldest messages that no longer fit in the budget, and says so the first time. */
  const trim = () => {
    const keep = messagesWithin(history, historyChars);
    if (keep === history.length) return;
    history.splice(0, history.length - keep);
    if (trimmed) return;
    trimmed = true;
    io.stdout.write(`${paint(DIM, `(the conversation is over --history-chars ${historyChars}: its oldest messages are no longer sent)`)}\n`);
  };

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
      atPrompt = false;
      const question = line.trim();
      if (question === '') {
        prompt();
        continue;
      }
      history.push({ role: 'user', content: question });
      trim();
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
  // Ended at the prompt (Ctrl-D, Ctrl-C): the shell's prompt must not follow ours on the same line.
  if (atPrompt) io.stdout.write('\n');
  return 0;
}

/**
 * How many of the latest messages fit in `budget` characters of text: always the last one (the question), then
 * older ones while they fit, the kept part starting at a user message (a conversation does not open with an answer).
 */
function messagesWithin(history: readonly ChatMessage[], budget: number): number {
  let used = 0;
  let keep = 0;
  for (let index = history.length - 1; index >= 0; index--) {
    used += history[index]!.content.length;
    if (keep > 0 && used > budget) break;
    keep++;
  }
  while (keep > 1 && history[history.length - keep]!.role !== 'user') keep--;
  return keep;
}

/** Colours when forced (FORCE_COLOR), else on a terminal unless NO_COLOR is set. */
function painter(io: CliIO): (code: number, text: string) => string {
  const color = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0' ? true : io.stdout.isTTY === true && io.env.NO_COLOR === undefined;
  return (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
}
