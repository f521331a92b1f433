/** @jest-config-loader esbuild-register */
// Node 20 cannot load TypeScript natively; esbuild-register (on the esbuild that tsx already brings) compiles this file.
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  moduleNameMapper: {
    '^rxguardrails$': '<rootDir>/lib/index.ts',
    '^rxguardrails/testing$': '<rootDir>/lib/testing/index.ts',
    '^rxguardrails/regex$': '<rootDir>/lib/regex/index.ts',
    '^rxguardrails/judges$': '<rootDir>/lib/judges/index.ts',
    '^rxguardrails/detectors$': '<rootDir>/lib/detectors/index.ts',
    '^rxguardrails/langchain$': '<rootDir>/lib/langchain/index.ts',
    '^rxguardrails/node$': '<rootDir>/lib/node/index.ts',
    '^rxguardrails/server$': '<rootDir>/lib/server/index.ts',
    // Sources import siblings as './x.js' (required by Node's ESM resolution); jest resolves the .ts file.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20_000,
};

export default config;
