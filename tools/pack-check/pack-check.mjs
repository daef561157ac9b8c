// Proves @org/plutus-client is publishable: `npm pack` it, install the tarball into an empty project, and use
// it there from ESM `import`, CommonJS `require` and TypeScript (types resolve), against the sandbox.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox } from '@org/plutus-sandbox';

const workspace = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'plutus-client-pack-'));
const sandbox = await startSandbox({ months: 2 });
// Consumers talk to the sandbox in this process, so they must run without blocking its event loop.
const runAsync = async (args, env) => (await promisify(execFile)(process.execPath, args, { cwd: dir, env, encoding: 'utf8' })).stdout;
const run = (command, args, options = {}) =>
  execFileSync(command, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
try {
  const tarball = run('npm', ['pack', join(workspace, 'libs', 'plutus-client'), '--pack-destination', dir, '--json']);
  const [{ filename, files, size }] = JSON.parse(tarball);
  console.log(`packed ${filename}: ${files.length} files, ${(size / 1024).toFixed(1)} kB`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', join(dir, filename)]);
  const env = { ...process.env, SANDBOX_URL: sandbox.url, SANDBOX_AUTH: JSON.stringify(sandbox.credentials) };
  writeFileSync(
    join(dir, 'esm.mjs'),
    `import { createPlutusClient } from '@org/plutus-client';
const client = createPlutusClient({ baseUrl: process.env.SANDBOX_URL, auth: JSON.parse(process.env.SANDBOX_AUTH) });
console.log('esm: ' + (await client.listRewards()).length + ' rewards');`,
  );
  writeFileSync(
    join(dir, 'cjs.cjs'),
    `const { createPlutusClient } = require('@org/plutus-client');
const client = createPlutusClient({ baseUrl: process.env.SANDBOX_URL, auth: JSON.parse(process.env.SANDBOX_AUTH) });
client.allTransactions({ pageSize: 100 }).then((rows) => console.log('cjs: ' + rows.length + ' transactions'));`,
  );
  writeFileSync(
    join(dir, 'typed.ts'),
    `import { createPlutusClient, type Reward, PlutusSchemaError } from '@org/plutus-client';
const client = createPlutusClient({ auth: { idToken: 'x' } });
const rewards: Promise<Reward[]> = client.listRewards();
const id: (r: Reward) => string = (r) => r.id;
export { rewards, id, PlutusSchemaError };`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['typed.ts'],
    }),
  );
  console.log((await runAsync(['esm.mjs'], env)).trim());
  console.log((await runAsync(['cjs.cjs'], env)).trim());
  run(process.execPath, [join(workspace, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  console.log('types: typed.ts compiles against the installed package');
  console.log('pack-check passed');
} finally {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
