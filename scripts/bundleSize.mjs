// What a browser app pays for the core entry: LLMRails and RailsConfig (fromContent and the rest) imported from
// 'rxguardrails' (the built package, through its exports map), bundled by esbuild for the browser and minified, as an
// app's bundler would. Prints the bundle's size, minified and gzipped, and what each package puts into it (minified
// bytes, from esbuild's metafile). `node scripts/bundleSize.mjs` after `npm run build`; spec/package/bundleSize.spec.ts
// holds the budget.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const result = await build({
  stdin: { contents: `export { LLMRails, RailsConfig } from 'rxguardrails';`, resolveDir: process.cwd(), loader: 'js' },
  bundle: true,
  minify: true,
  platform: 'browser',
  format: 'esm',
  write: false,
  metafile: true,
  logLevel: 'error',
});
const bundle = result.outputFiles[0].contents;
const packages = {};
for (const output of Object.values(result.metafile.outputs)) {
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    // The package a file belongs to; the library's own files count as one.
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'rxguardrails';
    packages[name] = (packages[name] ?? 0) + bytesInOutput;
  }
}
console.log(
  JSON.stringify(
    {
      minified: bundle.length,
      gzip: gzipSync(bundle).length,
      packages: Object.fromEntries(Object.entries(packages).sort(([, a], [, b]) => b - a)),
    },
    null,
    2,
  ),
);
