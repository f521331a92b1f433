// Before the peers benchmark: rxguardrails is linked from the project root (file:../..), so the root's dependencies
// and its built dist/ must be there. Installs and builds the root only when they are missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!existsSync(`${root}node_modules/rxjs/package.json`)) {
  console.log('bench/peers: installing the project root (npm ci)');
  execFileSync(npm, ['ci'], { cwd: root, stdio: 'inherit' });
}
if (!existsSync(`${root}dist/esm/index.js`) || !existsSync(`${root}dist/cjs/index.js`)) {
  console.log('bench/peers: building the project root (npm run build)');
  execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
