// `npm start` runs the local runner once apps/local-runner exists (issue: @org/pipeline and the local runner).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

if (!existsSync(new URL('../../apps/local-runner/package.json', import.meta.url))) {
  console.error('The local runner (apps/local-runner) is not built yet; see the open issue "@org/pipeline and the local runner".');
  console.error('Meanwhile: `npx nx build @org/plutus-sandbox && npx plutus-sandbox` serves the Plutus sandbox.');
  process.exit(1);
}
const result = spawnSync('npx', ['nx', 'run', '@org/local-runner:start', '--output-style=static', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
