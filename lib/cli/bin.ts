#!/usr/bin/env node
// The `rxguardrails` command. Everything happens in main(); this only wires it to the process.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
