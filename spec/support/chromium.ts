// Headless Chromium for the browser specs: the one inside the @sparticuz/chromium package (this machine reaches no
// browser download), driven by playwright-core.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';

const root = resolve(__dirname, '../..');

// This machine has no internet: Chromium's background services (updates, sync, safe browsing lists) would try to
// connect at start, fail, and can stall the launch. Chromium will not start as root (as here and in CI) with its
// sandbox on.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * The Chromium inside @sparticuz/chromium, unpacked once per installed version under node_modules/.cache. The package
 * unpacks into its tmpdir() and from then on reuses whatever `chromium` file it finds there, whichever version left
 * it and whether or not it was written whole; so it unpacks into a folder of its own, renamed into place once done.
 * The package is ESM only and jest runs specs as CommonJS, so a child Node unpacks it.
 */
export async function chromiumPath(): Promise<string> {
  const { version } = JSON.parse(readFileSync(resolve(root, 'node_modules/@sparticuz/chromium/package.json'), 'utf8')) as { version: string };
  const folder = resolve(root, 'node_modules/.cache', `sparticuz-chromium-${version}`);
  const executable = join(folder, 'chromium');
  if (existsSync(executable)) return executable;
  mkdirSync(dirname(folder), { recursive: true });
  const unpacking = mkdtempSync(`${folder}.unpacking-`);
  try {
    const script = `import chromium from '@sparticuz/chromium'; process.stdout.write(await chromium.executablePath());`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, env: { ...process.env, TMPDIR: unpacking }, encoding: 'utf8' });
    if (stdout !== join(unpacking, 'chromium')) throw new Error(`@sparticuz/chromium unpacked Chromium to ${stdout}, not into ${unpacking}`);
    renameSync(unpacking, folder);
  } catch (error) {
    // Another run may have put its copy in place first.
    if (!existsSync(executable)) throw error;
  } finally {
    rmSync(unpacking, { recursive: true, force: true });
  }
  return executable;
}

/** Launches that Chromium headless. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumPath(), args: CHROMIUM_FLAGS, timeout: 30_000 });
}
