import { build } from 'esbuild';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
async function files(exports) {
  const entry = join(process.cwd(), `.tmp-entry-${process.pid}.mjs`);
  writeFileSync(entry, `export { ${exports} } from 'rxguardrails';\n`);
  try {
    const r = await build({ entryPoints: [entry], bundle: true, splitting: true, minify: true, platform: 'browser', format: 'esm', outdir: '/tmp/out-diff', write: false, metafile: true, tsconfigRaw: {}, logLevel: 'error' });
    const m = {};
    for (const [p, o] of Object.entries(r.metafile.outputs)) { if (o.entryPoint && !o.entryPoint.includes('.tmp-entry')) continue; for (const [f, { bytesInOutput }] of Object.entries(o.inputs)) m[f] = (m[f] ?? 0) + bytesInOutput; }
    return m;
  } finally { rmSync(entry) }
}
const a = await files(process.argv[2]); const b = await files(process.argv[3]);
let total = 0;
for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) { const d = (b[f] ?? 0) - (a[f] ?? 0); if (d) { console.log(d, f); total += d; } }
console.log('total', total);
