// The REPL of `rxguardrails chat` on answerers written here: what it prints for each way an answer ends, what the
// conversation keeps, and Ctrl-C (a SIGINT on its own emitter) as an unsubscribe. Every wait is for printed text.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { concat, Observable, of, throwError } from 'rxjs';
import type { ChatMessage } from 'rxguardrails';
import type { AnswerFailure, Answerer } from '../../lib/cli/answerers.js';
import { chat, type ChatOptions, DEFAULT_HISTORY_CHARS } from '../../lib/cli/chat.js';
import { REFUSAL } from '../../lib/core/refusals.js';

/** An answerer giving `answers` in turn, recording the conversation of each call; errors read as `failure` says. */
function answering(answers: Observable<string>[], failure: (error: unknown) => AnswerFailure = () => ({ kind: 'failed', message: 'failed' })) {
  const calls: (readonly ChatMessage[])[] = [];
  const answerer: Answerer = Object.assign(
    (history: readonly ChatMessage[]) => {
      calls.push(history);
      return answers[calls.length - 1]!;
    },
    { failure },
  );
  return { answerer, calls };
}

/** The chat running on streams and a SIGINT emitter of its own. */
function session(answerer: Answerer, options: Partial<ChatOptions> = {}, terminal = false) {
  const stdin = Object.assign(new PassThrough(), { isTTY: terminal });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const signals = new EventEmitter();
  let out = '';
  stdout.setEncoding('utf8').on('data', (piece: string) => (out += piece));
  const ended = chat(answerer, { streaming: true, verbose: false, ...options }, { stdin, stdout, stderr, env: { NO_COLOR: '1' }, signals });
  return {
    stdin,
    signals,
    ended,
    out: () => out,
    /** Resolves once stdout holds `text`. */
    printed: (text: string) =>
      new Promise<void>((resolvePrinted) => {
        const check = () => {
          if (!out.includes(text)) return;
          stdout.off('data', check);
          resolvePrinted();
        };
        stdout.on('data', check);
        check();
      }),
  };
}

const user = (content: string): ChatMessage => ({ role: 'user', content });

describe('chat(answerer, options, io)', () => {
  it('should print tokens as they come with streaming, and keep the answer in the conversation', async () => {
    const { answerer, calls } = answering([of('Hello ', 'there!'), of('Bye.')]);
    const chatting = session(answerer);
    chatting.stdin.end('Hi\nThanks\n');
    expect(await chatting.ended).toBe(0);
    expect(chatting.out()).toBe('Hello there!\nBye.\n');
    expect(calls[1]).toEqual([user('Hi'), { role: 'assistant', content: 'Hello there!' }, user('Thanks')]);
  });

  it('should print nothing of an answer before it completes without streaming', async () => {
    let emitted!: () => void;
    const tokenEmitted = new Promise<void>((resolveEmitted) => (emitted = resolveEmitted));
    const held = new Observable<string>((subscriber) => {
      subscriber.next('Hello ');
      emitted();
    });
    const chatting = session(answering([held]).answerer, { streaming: false });
    chatting.stdin.write('Hi\n');
    await tokenEmitted;
    // The answer emitted a token and stays open; Ctrl-C shows that nothing of it was printed.
    chatting.signals.emit('SIGINT');
    await chatting.printed('(answer cancelled)\n');
    chatting.stdin.end();
    await chatting.ended;
    expect(chatting.out()).toBe('(answer cancelled)\n');
  });

  it('should unsubscribe from the answer on Ctrl-C during it, print "(answer cancelled)" and forget the question', async () => {
    let unsubscribed = false;
    const held = new Observable<string>((subscriber) => {
      subscriber.next('Sure! ');
      return () => (unsubscribed = true);
    });
    const { answerer, calls } = answering([held, of('Fine.')]);
    const chatting = session(answerer);
    chatting.stdin.write('How do I reset my router?\n');
    await chatting.printed('Sure! ');
    chatting.signals.emit('SIGINT');
    expect(unsubscribed).toBe(true);
    await chatting.printed('(answer cancelled)\n');
    chatting.stdin.end('Hi\n');
    expect(await chatting.ended).toBe(0);
    expect(chatting.out()).toBe('Sure! \n(answer cancelled)\nFine.\n');
    expect(calls[1]).toEqual([user('Hi')]);
  });

  it('should end on Ctrl-C at the prompt, on a fresh line', async () => {
    const { answerer, calls } = answering([]);
    const chatting = session(answerer, {}, true);
    await chatting.printed('> ');
    chatting.signals.emit('SIGINT');
    expect(await chatting.ended).toBe(0);
    expect(chatting.out()).toBe('> \n');
    expect(calls).toEqual([]);
  });

  it('should finish the answer and end, with no prompt after it, when the input ends during it', async () => {
    let finish!: () => void;
    const held = new Observable<string>((subscriber) => {
      subscriber.next('Hello ');
      finish = () => {
        subscriber.next('there!');
        subscriber.complete();
      };
    });
    const chatting = session(answering([held]).answerer, {}, true);
    chatting.stdin.write('Hi\n');
    await chatting.printed('Hello ');
    chatting.stdin.end();
    // The input's end reaches readline before the answer does.
    await new Promise((resolveEnd) => chatting.stdin.once('end', resolveEnd));
    finish();
    expect(await chatting.ended).toBe(0);
    expect(chatting.out()).toBe('> Hello there!\n');
  });

  it('should stop listening to SIGINT once it ends', async () => {
    const chatting = session(answering([]).answerer);
    chatting.stdin.end();
    await chatting.ended;
    expect(chatting.signals.listenerCount('SIGINT')).toBe(0);
  });

  it('should print a blocked answer as one line after the text shown, and keep the refusal in the conversation', async () => {
    const violation = new Error('blocked');
    const { answerer, calls } = answering([concat(of('The code '), throwError(() => violation)), of('Sorry.')], (error) =>
      error === violation ? { kind: 'blocked', message: 'Blocked by no digits rails. (digits in the answer)' } : { kind: 'failed', message: 'unexpected' },
    );
    const chatting = session(answerer);
    chatting.stdin.end('Code?\nWhy?\n');
    await chatting.ended;
    expect(chatting.out()).toBe('The code \n✖ Blocked by no digits rails. (digits in the answer)\nSorry.\n');
    expect(calls[1]).toEqual([user('Code?'), { role: 'assistant', content: REFUSAL }, user('Why?')]);
  });

  it('should print a failed answer as one line, and forget the question', async () => {
    const { answerer, calls } = answering([throwError(() => new Error('down')), of('Hello.')], () => ({ kind: 'failed', message: 'cannot reach the server' }));
    const chatting = session(answerer);
    chatting.stdin.end('Hi\nHi again\n');
    await chatting.ended;
    expect(chatting.out()).toBe('✖ cannot reach the server\nHello.\n');
    expect(calls[1]).toEqual([user('Hi again')]);
  });

  describe('history budget (historyChars)', () => {
    /** `count` answers of `size` characters each. */
    const answers = (count: number, size: number) => Array.from({ length: count }, (_, index) => of(String(index % 10).repeat(size)));
    const chars = (messages: readonly ChatMessage[]) => messages.reduce((total, message) => total + message.content.length, 0);

    it('should send each question with the latest messages that fit in the budget, starting at a question', async () => {
      const { answerer, calls } = answering(answers(4, 30));
      const chatting = session(answerer, { historyChars: 60 });
      // Each turn is a 10-character question and a 30-character answer.
      chatting.stdin.end('question 1\nquestion 2\nquestion 3\nquestion 4\n');
      await chatting.ended;
      expect(calls.map((messages) => messages.map(({ content }) => content.slice(0, 10)))).toEqual([
        ['question 1'],
        ['question 1', '0'.repeat(10), 'question 2'],
        // 10 + 30 + 10 fits in 60; with the first answer it would be 80.
        ['question 2', '1'.repeat(10), 'question 3'],
        ['question 3', '2'.repeat(10), 'question 4'],
      ]);
      for (const messages of calls) expect(chars(messages)).toBeLessThanOrEqual(60);
    });

    it('should not start the conversation sent with an answer', async () => {
      const { answerer, calls } = answering(answers(2, 30));
      // 40 characters: the last answer and question fit (35), with the question before them (10 more) they would not.
      const chatting = session(answerer, { historyChars: 40 });
      chatting.stdin.end('question 1\nq2345\n');
      await chatting.ended;
      expect(calls[1]).toEqual([user('q2345')]);
    });

    it('should send a question longer than the budget alone', async () => {
      const { answerer, calls } = answering(answers(2, 5));
      const chatting = session(answerer, { historyChars: 10 });
      const long = 'x'.repeat(50);
      chatting.stdin.end(`Hi\n${long}\n`);
      await chatting.ended;
      expect(calls[1]).toEqual([user(long)]);
    });

    it('should say once, the first time, that older messages are no longer sent', async () => {
      const { answerer } = answering(answers(4, 30));
      const chatting = session(answerer, { historyChars: 60, streaming: false });
      chatting.stdin.end('question 1\nquestion 2\nquestion 3\nquestion 4\n');
      await chatting.ended;
      const notice = '(the conversation is over --history-chars 60: its oldest messages are no longer sent)';
      expect(chatting.out().split('\n')).toEqual(['0'.repeat(30), '1'.repeat(30), notice, '2'.repeat(30), '3'.repeat(30), '']);
    });

    it('should send a bounded conversation however long the chat (the default budget)', async () => {
      const turns = 600;
      const { answerer, calls } = answering(answers(turns, 100));
      const chatting = session(answerer, { streaming: false });
      chatting.stdin.end(Array.from({ length: turns }, (_, index) => `question ${index}`).join('\n') + '\n');
      await chatting.ended;
      expect(calls).toHaveLength(turns);
      expect(Math.max(...calls.map(chars))).toBeLessThanOrEqual(DEFAULT_HISTORY_CHARS);
      expect(calls.at(-1)!.at(-1)).toEqual(user(`question ${turns - 1}`));
      // Without a bound the last call would hold every turn: 600 * 100 characters of answers alone.
      expect(chars(calls.at(-1)!)).toBeGreaterThan(DEFAULT_HISTORY_CHARS - 200);
    });
  });

  it("should print the answerer's explain() after each answer with verbose", async () => {
    const { answerer } = answering([of('Hello.')]);
    let explained = 0;
    const chatting = session(Object.assign(answerer, { explain: () => `Summary ${++explained}.\n` }), { verbose: true });
    chatting.stdin.end('Hi\n');
    await chatting.ended;
    expect(chatting.out()).toBe('Hello.\nSummary 1.\n');
  });
});
