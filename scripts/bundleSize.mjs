// What a browser app pays for the core entry: LLMRails and RailsConfig (fromContent and the rest) and the server
// client fromGuardrailsServer, imported from 'rxguardrails' (the built package, through its exports map), bundled by
// esbuild for the browser with code splitting and minified, as an app's bundler would (Angular's builder is esbuild).
// Prints the initial bundle (the entry and the chunks it imports statically: what the page loads before it runs) and
// the lazy chunks (what import() loads when a config first needs it: the regex and Jinja engines; the server client's
// reading half at its first request), each minified and gzipped, with what each package puts into
// it (minified bytes, from esbuild's metafile). `node scripts/bundleSize.mjs` after `npm run build`;
// spec/package/bundleSize.spec.ts holds the budget.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

// esbuild cannot split code bundled from stdin; the entry is a file, resolved from this checkout (the package itself).
const entry = join(process.cwd(), `.bundle-size-entry-${process.pid}.mjs`);
const outdir = mkdtempSync(join(tmpdir(), 'rxguardrails-bundle-'));
writeFileSync(entry, `export { LLMRails, RailsConfig, fromGuardrailsServer } from 'rxguardrails';\n`);
let result;
try {
  result = await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    outdir,
    write: false,
    metafile: true,
    // Not this checkout's tsconfig.json, whose paths map 'rxguardrails' to lib/: an app resolves the built package.
    tsconfigRaw: {},
    logLevel: 'error',
  });
} finally {
  rmSync(entry, { force: true });
  rmSync(outdir, { recursive: true, force: true });
}

const contents = new Map(result.outputFiles.map((file) => [file.path, file.contents]));
const outputs = result.metafile.outputs;
const absolute = (path) => join(process.cwd(), path);
const [entryOutput] = Object.keys(outputs).filter((path) => outputs[path].entryPoint !== undefined && outputs[path].entryPoint.includes('.bundle-size-entry'));

/** The outputs the entry loads before it runs: itself and, transitively, the chunks it imports statically. */
const initial = new Set();
const visit = (path) => {
  if (initial.has(path)) return;
  initial.add(path);
  for (const imported of outputs[path].imports) if (imported.kind === 'import-statement') visit(imported.path);
};
visit(entryOutput);
const lazy = Object.keys(outputs).filter((path) => !initial.has(path) && path.endsWith('.js'));

/** Minified and gzipped bytes of some outputs together, and each package's share of the minified bytes. */
function measure(paths) {
  const packages = {};
  let minified = 0;
  let gzip = 0;
  for (const path of paths) {
    const bytes = contents.get(absolute(path));
    minified += bytes.length;
    gzip += gzipSync(bytes).length;
    for (const [file, { bytesInOutput }] of Object.entries(outputs[path].inputs)) {
      if (bytesInOutput === 0) continue;
      // The package a file belongs to; the library's own files count as one.
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'rxguardrails';
      packages[name] = (packages[name] ?? 0) + bytesInOutput;
    }
  }
  return { minified, gzip, packages: Object.fromEntries(Object.entries(packages).sort(([, a], [, b]) => b - a)) };
}

console.log(
  JSON.stringify(
    {
      initial: measure([...initial]),
      // Named by the module import() loads (its chunk's own code may be shared with another lazy chunk).
      lazy: Object.fromEntries(lazy.filter((path) => outputs[path].entryPoint !== undefined).map((path) => [outputs[path].entryPoint.replace(/^(?:.*\/)?dist\/esm\//, ''), measure(closure(path))])),
    },
    null,
    2,
  ),
);

/** A lazy chunk and what it imports statically that the initial bundle does not already hold. */
function closure(path) {
  const found = new Set();
  const walk = (current) => {
    if (found.has(current) || initial.has(current)) return;
    found.add(current);
    for (const imported of outputs[current].imports) if (imported.kind === 'import-statement') walk(imported.path);
  };
  walk(path);
  return [...found];
}
