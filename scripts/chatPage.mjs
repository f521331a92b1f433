// The chat page (chat/) as one HTML file: page.ts bundled and minified by esbuild (eventsource-parser included),
// page.css minified, both inlined into index.html, with the sha256 hashes the server's Content-Security-Policy
// allows them by. `npm run build` writes it into the server's chatPage module; spec/package/chatPageSize.spec.ts
// weighs it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const hash = (text) => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

/** @returns {Promise<{ html: string, scriptHashes: string[], styleHashes: string[] }>} */
export async function buildChatPage() {
  const common = { bundle: true, minify: true, write: false, logLevel: 'error', legalComments: 'none' };
  const script = await build({ ...common, entryPoints: ['chat/page.ts'], platform: 'browser', format: 'iife', target: 'es2020', tsconfigRaw: {} });
  const style = await build({ ...common, entryPoints: ['chat/page.css'], loader: { '.css': 'css' } });
  // A script may not hold "</script" inside an inline <script> (nor a style "</style"): the page would end there.
  const js = script.outputFiles[0].text.trim().replace(/<\/(script)/gi, '<\\/$1');
  const css = style.outputFiles[0].text.trim();
  if (/<\/style/i.test(css)) throw new Error('chat/page.css holds "</style"');
  const template = readFileSync('chat/index.html', 'utf8');
  if (!template.includes('/*SCRIPT*/') || !template.includes('/*STYLE*/')) throw new Error('chat/index.html lost its /*SCRIPT*/ or /*STYLE*/ slot');
  // Replaced by functions: a `$&` in the code must stay as it is.
  const html = template.replace('/*STYLE*/', () => css).replace('/*SCRIPT*/', () => js);
  return { html, scriptHashes: [hash(js)], styleHashes: [hash(css)] };
}
