#!/usr/bin/env node
import { runSandboxCli } from './sandbox-cli';

runSandboxCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`plutus-sandbox: ${(error as Error).message}`);
    process.exit(2);
  },
);
