// examples/angular, end to end: the example's own install (npm ci, only when its node_modules is missing), its
// production build (ng build, the esbuild application builder) and its unit tests (ng test), then the built app served
// from 127.0.0.1 and driven in headless Chromium (spec/support/chromium.ts). Panel 1 runs `guard` in the page on a
// scripted stream; panel 2 chats with a guardrails server this spec starts on 127.0.0.1 (createApp, with the app's
// origin in corsOrigins), whose main model is a scripted one answering by question and whose every call is recorded,
// so the spec sees a blocked or stopped answer's model call end cancelled, before its answer was whole.
// The app links this checkout's dist/ (file:../..): `npm test` builds before jest. Screenshots go to
// spec/browser/.screenshots/ (gitignored).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { type LlmCallInfo, scriptedModel } from 'rxguardrails';
import { type Running, start } from '../server/serverHarness.js';
import { launchChromium } from '../support/chromium.js';
import { serveFolder, type StaticServer } from '../support/staticServer.js';

const root = resolve(__dirname, '../..');
const EXAMPLE = resolve(root, 'examples/angular');
const SCREENSHOTS = resolve(__dirname, '.screenshots');
const NG = resolve(EXAMPLE, 'node_modules/@angular/cli/bin/ng.js');
// Under `npm test` the environment holds the root's npm settings (npm_config_local_prefix is this checkout): the
// example's own npm and CLI must not see them. The Angular CLI asks about analytics on a terminal, and colours.
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_'))),
  NG_CLI_ANALYTICS: 'false',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
};

/** The server's main model answers by the user's last message; the words come every DELAY_MS. */
const DELAY_MS = 25;
const ANSWERS: Readonly<Record<string, string>> = {
  'Hi!': 'Hello there! How can I help you today? Ask me anything you like.',
  'What is the admin password?': 'Sure! Happy to help. The admin password is hunter2, keep it to yourself and never share it with anyone.',
  'Tell me a long story.': Array.from({ length: 60 }, (_, index) => `word${index + 1}`).join(' '),
};
const words = (text: string) => text.split(' ').length;

async function run(command: string, args: readonly string[]): Promise<number> {
  const started = Date.now();
  await promisify(execFile)(command, args, { cwd: EXAMPLE, env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return Date.now() - started;
}

/** What the production build loads before the app runs: the scripts and styles index.html names. */
function initialFiles(folder: string): string[] {
  const html = readFileSync(join(folder, 'index.html'), 'utf8');
  return [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
}

describe('examples/angular in a real browser', () => {
  let output: string;
  let site: StaticServer | undefined;
  let guardrails: Running | undefined;
  let browser: Browser | undefined;
  const calls: LlmCallInfo[] = [];
  /** Milliseconds each step of the set-up took (install only when it ran). */
  const took: Record<string, number> = {};

  beforeAll(async () => {
    if (!existsSync(resolve(root, 'dist/esm/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
    // npm writes node_modules/.package-lock.json last: its absence means no install, or one that did not finish.
    if (!existsSync(resolve(EXAMPLE, 'node_modules/.package-lock.json'))) took['npm ci'] = await run('npm', ['ci', '--prefix', EXAMPLE, '--no-audit', '--no-fund']);
    output = mkdtempSync(join(tmpdir(), 'rxguardrails-angular-'));
    took['ng build'] = await run(process.execPath, [NG, 'build', '--output-path', output, '--stats-json']);
    site = await serveFolder(join(output, 'browser'));
    guardrails = await start({
      configDir: 'spec/fixtures/angular-example',
      corsOrigins: [site.origin],
      models: { main: scriptedModel((messages) => ANSWERS[messages.at(-1)?.content ?? ''] ?? 'I have no answer to that.', { delayMs: DELAY_MS }) },
      usage: { next: (call) => calls.push(call) },
    });
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await guardrails?.close();
    await site?.close();
    if (output) rmSync(output, { recursive: true, force: true });
  });

  beforeEach(() => {
    calls.length = 0;
  });

  /** Opens the app (the chat pointed at the spec's server), runs `body`, screenshots the page; no page errors allowed. */
  async function onPage(name: string, body: (page: Page) => Promise<void>): Promise<void> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 700 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    try {
      await page.goto(`${site!.origin}/?server=${encodeURIComponent(`${guardrails!.url}/v1`)}`);
      await page.locator('app-chat-panel [data-testid="server"]').waitFor({ timeout: 10_000 });
      await body(page);
      expect(errors).toEqual([]);
    } finally {
      await page.screenshot({ path: join(SCREENSHOTS, `angularExample.${name}.png`), fullPage: true }).finally(() => context.close());
    }
  }

  /** Sends `question` in the chat and records every text its answer shows, as it grows. */
  async function ask(page: Page, question: string): Promise<void> {
    await page.evaluate(`(() => {
      const panel = document.querySelector('[data-panel="chat"]');
      window.shownTexts = [];
      new MutationObserver(() => {
        const answers = panel.querySelectorAll('[data-testid="answer"]');
        const text = answers.length === 0 ? '' : answers[answers.length - 1].textContent;
        if (text !== '' && window.shownTexts.at(-1) !== text) window.shownTexts.push(text);
      }).observe(panel, { subtree: true, childList: true, characterData: true });
    })()`);
    await page.locator('[data-panel="chat"] input[name="question"]').fill(question);
    await page.locator('[data-panel="chat"] [data-action="send"]').click();
  }

  const shownTexts = (page: Page) => page.evaluate<string[]>('window.shownTexts');
  const lastTurn = (page: Page) => page.locator('[data-panel="chat"] [data-testid="turn"]').last();

  /** The server's model calls once `count` have ended (a call is recorded when it ends). */
  async function callsEnded(count: number): Promise<LlmCallInfo[]> {
    for (const deadline = Date.now() + 5_000; calls.length < count && Date.now() < deadline; ) await new Promise((wait) => setTimeout(wait, 20));
    return [...calls];
  }

  it('should build for production with one rxjs, the library and the app within 200 kB before the app runs', () => {
    const stats = JSON.parse(readFileSync(join(output, 'stats.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const rxjsCopies = new Set(Object.keys(stats.inputs).flatMap((input) => /^(.*node_modules\/rxjs)\//.exec(input)?.[1] ?? []));
    expect([...rxjsCopies]).toEqual(['node_modules/rxjs']);
    expect(Object.keys(stats.inputs).some((input) => input.startsWith('../../dist/esm/'))).toBe(true);
    const files = initialFiles(join(output, 'browser'));
    const contents = files.map((file) => readFileSync(join(output, 'browser', file)));
    const raw = contents.reduce((sum, content) => sum + content.length, 0);
    const gzipped = contents.reduce((sum, content) => sum + gzipSync(content).length, 0);
    expect(files.some((file) => /^main-\w+\.js$/.test(file))).toBe(true);
    expect(raw).toBeLessThan(200_000);
    expect(gzipped).toBeLessThan(65_000);
  });

  it("should pass the example's own unit tests (ng test: vitest on jsdom)", async () => {
    took['ng test'] = await run(process.execPath, [NG, 'test', '--watch=false']);
  }, 180_000);

  it('should release a clean scripted answer whole through guard in the page', async () => {
    await onPage('guarded-stream-clean', async (page) => {
      const panel = page.locator('[data-panel="guarded-stream"]');
      await panel.locator('[data-action="ask-clean"]').click();
      await panel.locator('[data-testid="status"]', { hasText: '✔' }).waitFor({ timeout: 10_000 });
      expect(await panel.locator('[data-testid="released"]').textContent()).toBe('Open Settings, choose Security, then Reset and follow the e-mail we send you.');
      expect(await panel.locator('[data-testid="block"]').count()).toBe(0);
    });
  });

  it('should show the words released before the block and a block message naming the rail, never the phrase', async () => {
    await onPage('guarded-stream-block', async (page) => {
      const panel = page.locator('[data-panel="guarded-stream"]');
      await panel.locator('[data-action="ask-leak"]').click();
      const block = panel.locator('[data-testid="block"]');
      await block.waitFor({ timeout: 10_000 });
      expect((await block.textContent())!.trim()).toBe('✖ Blocked by keyword rails. (rail: keyword; matched keyword "launch code")');
      expect(await panel.locator('[data-testid="released"]').textContent()).toBe('Sure! Happy to help. ');
      expect(await page.locator('body').innerText()).not.toContain('launch code is');
    });
  });

  it("should stream a clean chat answer from the guardrails server token by token", async () => {
    await onPage('chat-clean', async (page) => {
      await ask(page, 'Hi!');
      await lastTurn(page).locator('[data-testid="done"]').waitFor({ timeout: 10_000 });
      const answer = ANSWERS['Hi!']!;
      expect(await lastTurn(page).locator('[data-testid="answer"]').textContent()).toBe(answer);
      // Shown as it came: growing prefixes of the answer, many of them, the last the whole answer.
      const shown = await shownTexts(page);
      expect(shown.length).toBeGreaterThan(3);
      shown.forEach((text, index) => {
        expect(answer.startsWith(text)).toBe(true);
        if (index > 0) expect(text.length).toBeGreaterThan(shown[index - 1]!.length);
      });
      expect(shown.at(-1)).toBe(answer);
      expect(await callsEnded(1)).toEqual([expect.objectContaining({ task: 'general', outcome: 'completed', completionTokens: words(answer) })]);
    });
  });

  it("should show a server block naming the rail after the text shown before it, and the server's model request be cancelled", async () => {
    await onPage('chat-block', async (page) => {
      await ask(page, 'What is the admin password?');
      const block = lastTurn(page).locator('[data-testid="block"]');
      await block.waitFor({ timeout: 10_000 });
      expect(await block.textContent()).toBe('✖ Blocked by keyword check rails. (rail: keyword check)');
      // Windows of 4 words, 1 of context, stream_first False: the first window passed and released its first 3 words;
      // the second ("help. The admin password") was blocked.
      expect(await lastTurn(page).locator('[data-testid="answer"]').textContent()).toBe('Sure! Happy to ');
      const shown = await shownTexts(page);
      expect(shown).toContain('Sure! Happy to ');
      expect(shown.join('\n')).not.toContain('password');
      const [call, ...others] = await callsEnded(1);
      expect(others).toEqual([]);
      expect(call).toEqual(expect.objectContaining({ task: 'general', outcome: 'cancelled' }));
      expect(call!.completionTokens).toBeLessThan(words(ANSWERS['What is the admin password?']!));
    });
  });

  it('should abort the request when Stop is clicked, and the server stop its model there', async () => {
    await onPage('chat-stop', async (page) => {
      await ask(page, 'Tell me a long story.');
      const answer = lastTurn(page).locator('[data-testid="answer"]');
      await page.waitForFunction(`(window.shownTexts.at(-1) ?? '').split(' ').length >= 5`, undefined, { timeout: 10_000 });
      await page.locator('[data-panel="chat"] [data-action="stop"]').click();
      await lastTurn(page).locator('[data-testid="stopped"]').waitFor({ timeout: 5_000 });
      const [call] = await callsEnded(1);
      expect(call).toEqual(expect.objectContaining({ task: 'general', outcome: 'cancelled' }));
      expect(call!.completionTokens).toBeLessThan(words(ANSWERS['Tell me a long story.']!) / 2);
      const stoppedAt = await answer.textContent();
      await new Promise((wait) => setTimeout(wait, 10 * DELAY_MS));
      expect(await answer.textContent()).toBe(stoppedAt);
    });
  });

  afterAll(() => {
    // What the example's steps cost this run, for the README's account of the spec's time.
    process.stdout.write(`examples/angular: ${Object.entries(took).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
  });
});
