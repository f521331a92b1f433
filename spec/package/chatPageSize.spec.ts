// The chat page as the build ships it (dist/*/server/chatPage.js, written by scripts/build.mjs from chat/): its
// weight, that its Content-Security-Policy hashes are those of its inline script and style, that it refers to no
// other origin, and that only the server entry reaches it. `npm test` builds before it runs jest.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(__dirname, '../..');

// 16.2 kB, 6.5 kB gzipped when it was written.
const RAW_BUDGET = 32_000;
const GZIP_BUDGET = 12_000;

interface ChatPage {
  readonly html: string;
  readonly scriptHashes: readonly string[];
  readonly styleHashes: readonly string[];
}

describe('the chat page, as built', () => {
  let esm: ChatPage;
  beforeAll(() => {
    if (!existsSync(resolve(root, 'dist/esm/server/chatPage.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
    // jest runs specs as CommonJS: a child Node imports the ESM build.
    const script = `import { chatPage } from './dist/esm/server/chatPage.js'; process.stdout.write(JSON.stringify(chatPage));`;
    esm = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, encoding: 'utf8' })) as ChatPage;
  });

  it(`should weigh at most ${RAW_BUDGET / 1000} kB, ${GZIP_BUDGET / 1000} kB gzipped, script and style included`, () => {
    expect(esm.html.length).toBeLessThanOrEqual(RAW_BUDGET);
    expect(gzipSync(esm.html).length).toBeLessThanOrEqual(GZIP_BUDGET);
  });

  it('should be the bundled page, the same in the ESM and the CommonJS build', () => {
    expect(esm.html).toContain('id="composer"');
    expect(esm.html).not.toContain('/*SCRIPT*/');
    const cjs = (require(resolve(root, 'dist/cjs/server/chatPage.js')) as { chatPage: ChatPage }).chatPage;
    expect(cjs).toEqual(esm);
  });

  it('should allow by hash exactly its one inline script and one inline style', () => {
    const inline = (tag: string) => [...esm.html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => `sha256-${createHash('sha256').update(match[1]!).digest('base64')}`);
    expect(inline('script')).toEqual(esm.scriptHashes);
    expect(inline('style')).toEqual(esm.styleHashes);
    expect(esm.scriptHashes).toHaveLength(1);
    // No script loaded from anywhere, inline handlers neither (the policy would block them).
    expect(esm.html).not.toMatch(/<script[^>]*\ssrc=|\son[a-z]+=/i);
  });

  it('should name no other origin: no CDN, no web font', () => {
    expect(esm.html).not.toMatch(/https?:\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    expect(esm.html).not.toMatch(/@import|url\(/);
  });

  it('should be reached from the server entry only, never from the core or another entry', () => {
    expect(readFileSync(resolve(root, 'dist/esm/server/createApp.js'), 'utf8')).toMatch(/^import \{ chatPageRoute \} from '\.\/chatPageRoute\.js';$/m);
    for (const entry of ['index', 'testing/index', 'regex/index', 'judges/index', 'detectors/index', 'node/index', 'otel/index', 'ai-sdk/index', 'langchain/index']) {
      const reached = new Set<string>();
      const visit = (file: string) => {
        if (reached.has(file)) return;
        reached.add(file);
        const code = readFileSync(file, 'utf8');
        // Static imports and re-exports at the start of a line (not the examples in doc comments), and import().
        const specifiers = code.matchAll(/^(?:import|export)\b[^'"]*?from\s*'(\.{1,2}\/[^']+)'|\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/gm);
        for (const [, fromStatement, dynamic] of specifiers) visit(resolve(file, '..', (fromStatement ?? dynamic)!));
      };
      visit(resolve(root, `dist/esm/${entry}.js`));
      expect(reached.size).toBeGreaterThan(1);
      expect([...reached].filter((file) => /chatPage/.test(file))).toEqual([]);
    }
  });
});
