#!/usr/bin/env node
import { describeFailure, runLocalRunnerCli } from './local-runner-cli';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `local-runner needs Node.js 22 or later (this is ${process.version}). Run it through npm (\`npm start\`), which uses the workspace's Node 22, or \`nvm use\`.`,
  );
  process.exit(2);
}

runLocalRunnerCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
  cwd: process.env['INIT_CWD'] ?? process.cwd(),
  onSignal: (handler) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        // A second signal while cleaning up ends the process at once.
        process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
        handler(signal).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  },
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`local-runner: ${describeFailure(error)}`);
    process.exit(2);
  },
);
