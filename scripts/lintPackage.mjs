// The package as npm would publish it, linted: the tarball `npm pack` makes from the current build goes through
// publint (package.json fields and the files they point to, warnings counted as errors) and Are the Types Wrong
// (every subpath of the exports map, as TypeScript resolves it for node10, node16 from CommonJS and from ESM, and
// bundler consumers). Run after `npm run build`; `npm test` does.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!existsSync('dist/esm/index.js') || !existsSync('dist/cjs/index.js')) {
  console.error('lint:package: dist/ is missing: run `npm run build` first');
  process.exit(1);
}

// Run from the package root, like the build; the tools' own launchers in node_modules/.bin.
const bin = (name) => join('node_modules', '.bin', name);
const directory = mkdtempSync(join(tmpdir(), 'rxguardrails-pack-'));
try {
  // npm prints the tarball's contents on stderr; the last line of stdout is its file name.
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', directory], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const tarball = join(directory, packed.trim().split('\n').at(-1));
  execFileSync(bin('publint'), ['run', tarball, '--strict'], { stdio: 'inherit' });
  execFileSync(bin('attw'), [tarball, '--format', 'table-flipped'], { stdio: 'inherit' });
} catch (error) {
  // The tool has printed what is wrong; its exit status is the answer.
  process.exitCode = typeof error.status === 'number' ? error.status : 1;
} finally {
  rmSync(directory, { recursive: true, force: true });
}
