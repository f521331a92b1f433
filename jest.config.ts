/** @jest-config-loader esbuild-register */
// Node 20 cannot load TypeScript natively; esbuild-register (on the esbuild that tsx already brings) compiles this file.
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  // The Angular example has specs and a node_modules of its own (vitest, via `ng test`), and links this checkout
  // back in as node_modules/rxguardrails: jest must neither run nor index them.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/examples/angular/', '<rootDir>/bench/peers/'],
  modulePathIgnorePatterns: ['<rootDir>/examples/angular/', '<rootDir>/bench/peers/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
    // `ai` 7 and `@ai-sdk/*` are ESM only (and import zod by an ESM file path); Jest on Node 20 cannot require them (see spec/support/esmToCommonJs.cjs).
    '^.+/node_modules/(ai|@ai-sdk/[^/]+|@workflow/serde|zod)/.+\\.js$': '<rootDir>/spec/support/esmToCommonJs.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!(ai|@ai-sdk/[^/]+|@workflow/serde|zod)/)'],
  moduleNameMapper: {
    '^rxguardrails$': '<rootDir>/lib/index.ts',
    '^rxguardrails/testing$': '<rootDir>/lib/testing/index.ts',
    '^rxguardrails/regex$': '<rootDir>/lib/regex/index.ts',
    '^rxguardrails/judges$': '<rootDir>/lib/judges/index.ts',
    '^rxguardrails/detectors$': '<rootDir>/lib/detectors/index.ts',
    '^rxguardrails/langchain$': '<rootDir>/lib/langchain/index.ts',
    '^rxguardrails/otel$': '<rootDir>/lib/otel/index.ts',
    '^rxguardrails/node$': '<rootDir>/lib/node/index.ts',
    '^rxguardrails/server$': '<rootDir>/lib/server/index.ts',
    '^rxguardrails/ai-sdk$': '<rootDir>/lib/ai-sdk/index.ts',
    // Sources import siblings as './x.js' (required by Node's ESM resolution); jest resolves the .ts file.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20_000,
};

export default config;
