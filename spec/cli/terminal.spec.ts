// `rxguardrails chat` on a terminal: the built bin as a real process under a pseudo-terminal (pty.py), keys typed
// into it and the screen read back as the user sees it (terminalScreen.ts). Every wait is for what the screen shows.
import { type Screen } from './terminalScreen.js';
import { startInTerminal, type TerminalRun } from './runBin.js';

const QUESTION = 'How do I reset my router?';
const RESET = 'Sure! To reset your router, hold its reset button for ten seconds, then sign in with the password printed on its label.';
const BLOCKED = '✖ Blocked by keyword check rails. (matched keyword "passphrase")';

/** The prompt as the screen shows it (rows without their trailing spaces). */
const PROMPT = '>';

/** The screen waits for input after `lines`: the prompt on the last line, the cursor after it. */
const promptAfter = (lines: number) => (screen: Screen) => screen.lines.length === lines + 1 && screen.lines[lines] === PROMPT && screen.cursor.column === 2;

describe('rxguardrails chat on a terminal (a real process under a pseudo-terminal)', () => {
  let terminal: TerminalRun | undefined;
  afterEach(async () => {
    if (terminal && terminal.child.exitCode === null) {
      terminal.child.kill();
      await terminal.exited;
    }
    terminal = undefined;
  });

  /** The chat on examples/configs/demo, at its first prompt. */
  async function started(args: readonly string[] = []): Promise<TerminalRun> {
    terminal = startInTerminal(['chat', '--config', 'examples/configs/demo', ...args]);
    await terminal.waitForScreen(promptAfter(0));
    return terminal;
  }

  it('should show what is typed, as edited with Backspace, above the answer', async () => {
    const chat = await started();
    chat.type('How do I resett\u007f my router?\r');
    const screen = await chat.waitForScreen(promptAfter(2));
    expect(screen.lines).toEqual([`> ${QUESTION}`, RESET, PROMPT]);
  });

  it('should show each character as it is typed, before Enter', async () => {
    const chat = await started();
    chat.type('How do');
    expect((await chat.waitForScreen((screen) => screen.lines[0] === '> How do')).cursor).toEqual({ row: 0, column: 8 });
  });

  it('should show the line Up recalls before it is sent, and what it sent', async () => {
    const chat = await started();
    chat.type(`${QUESTION}\r`);
    await chat.waitForScreen(promptAfter(2));
    chat.type('\u001b[A');
    expect((await chat.waitForScreen((screen) => screen.lines[2] === `> ${QUESTION}`)).lines).toEqual([`> ${QUESTION}`, RESET, `> ${QUESTION}`]);
    chat.type('\r');
    expect((await chat.waitForScreen(promptAfter(4))).lines).toEqual([`> ${QUESTION}`, RESET, `> ${QUESTION}`, BLOCKED, PROMPT]);
  });

  it('should stream the answer on the line below the question with --streaming', async () => {
    const chat = await started(['--streaming']);
    chat.type(`${QUESTION}\r`);
    expect((await chat.waitForScreen(promptAfter(2))).lines).toEqual([`> ${QUESTION}`, RESET, PROMPT]);
  });

  it.each([
    ['Ctrl-D', '\u0004'],
    ['Ctrl-C', '\u0003'],
  ])('should end on %s at the prompt, leaving the cursor at the start of a fresh line', async (_, key) => {
    const chat = await started();
    chat.type(`${QUESTION}\r`);
    await chat.waitForScreen(promptAfter(2));
    chat.type(key);
    expect(await chat.exited).toBe(0);
    const screen = chat.screen();
    // The shell's prompt starts here: on the line after the chat's, at its first column.
    expect(screen.cursor).toEqual({ row: 3, column: 0 });
    expect(screen.lines.slice(0, 3)).toEqual([`> ${QUESTION}`, RESET, PROMPT]);
  });

  it('should finish the answer and end on a fresh line on Ctrl-D during it', async () => {
    const chat = await started(['--streaming']);
    chat.type(`${QUESTION}\r`);
    await chat.waitForScreen((screen) => (screen.lines[1] ?? '').startsWith('Sure!'));
    chat.type('\u0004');
    expect(await chat.exited).toBe(0);
    const screen = chat.screen();
    expect(screen.lines.slice(0, 2)).toEqual([`> ${QUESTION}`, RESET]);
    expect(screen.cursor.column).toBe(0);
  });

  it('should cancel the answer on Ctrl-C during it, and keep chatting', async () => {
    const chat = await started(['--streaming']);
    chat.type(`${QUESTION}\r`);
    await chat.waitForScreen((screen) => (screen.lines[1] ?? '').startsWith('Sure!'));
    chat.type('\u0003');
    const screen = await chat.waitForScreen((shown) => shown.lines.includes('(answer cancelled)') && shown.lines.at(-1) === PROMPT);
    expect(screen.lines[0]).toBe(`> ${QUESTION}`);
    expect(RESET.startsWith(screen.lines[1]!)).toBe(true);
    expect(screen.lines.slice(2)).toEqual(['(answer cancelled)', PROMPT]);
  });
});
