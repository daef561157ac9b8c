#!/usr/bin/env node
'use strict';
// The command npm links at install, before anything is built (a bin pointing into dist/ would not be linked):
// it runs the built CLI, else the one `npm start` bundled, or says how to build it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = [join(__dirname, '..', 'dist', 'cli.js'), join(__dirname, '..', 'dist-start', 'local-runner.cjs')].find((file) =>
  existsSync(file),
);
if (!cli) {
  console.error(
    'local-runner: not built yet (no dist/cli.js). In the repository, run `npx nx build @org/local-runner` (or `npm start` once), then this again.',
  );
  process.exit(2);
}
require(cli);
