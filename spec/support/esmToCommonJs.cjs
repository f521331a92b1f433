// Jest runs the specs as CommonJS (ts-jest), and Jest on Node 20 cannot require an ES module. `ai` 7 and its
// `@ai-sdk/*` packages ship ESM only, so this transformer compiles those files to CommonJS with esbuild (already a dev
// dependency through tsx). Only the packages named in jest.config.ts's transformIgnorePatterns exception pass here.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      format: 'cjs',
      loader: 'js',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code, map };
  },
};
