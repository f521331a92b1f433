// Read by `ng test` (angular.json: runnerConfig). rxguardrails is linked from the repository (file:../..), whose own
// node_modules holds a second rxjs (its devDependency). Without this, the library's modules would load that copy in
// tests (Observables of two copies are not instanceof each other, and a TestScheduler patches only its own copy),
// and the app's own CommonJS build of rxjs next to the ESM one. Every `rxjs` import, the app's and the library's,
// is sent to this app's ESM build. tsconfig.json's `paths` do the same for `ng build`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const rxjs = fileURLToPath(new URL('./node_modules/rxjs/dist/esm/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^rxjs$/, replacement: `${rxjs}index.js` },
      { find: /^rxjs\/(operators|testing|ajax|fetch|webSocket)$/, replacement: `${rxjs}$1/index.js` },
    ],
  },
});
