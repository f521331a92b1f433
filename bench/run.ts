// npm run bench: every benchmark, one after the other, each in its own process.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const name of ['core', 'latency', 'sources', 'server', 'hostile']) {
  execFileSync(process.execPath, [...process.execArgv, fileURLToPath(new URL(`./${name}.bench.ts`, import.meta.url))], { stdio: 'inherit' });
}
