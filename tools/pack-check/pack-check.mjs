// Proves @org/plutus-client is publishable: `npm pack` it, install the tarball into an empty project, and use
// it there from ESM `import`, CommonJS `require` and TypeScript (types resolve), against the sandbox.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
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
  const packed = new Set(files.map((file) => file.path));
  if (!packed.has('LICENSE')) throw new Error('the tarball has no LICENSE');
  // Every source map points at files the tarball holds, and every export target is in it (the @org/source
  // condition's too): nothing a consumer's tools follow leads out of the package.
  const manifest = JSON.parse(readFileSync(join(workspace, 'libs', 'plutus-client', 'package.json'), 'utf8'));
  const targets = [];
  const collect = (value) => (typeof value === 'string' ? targets.push(value) : Object.values(value).forEach(collect));
  collect(manifest.exports);
  const missingTargets = targets.map((target) => posix.normalize(target)).filter((target) => !packed.has(target));
  if (missingTargets.length) throw new Error(`exports name files the tarball lacks: ${missingTargets.join(', ')}`);
  const maps = [...packed].filter((path) => path.endsWith('.map'));
  const dangling = maps.flatMap((map) =>
    JSON.parse(readFileSync(join(workspace, 'libs', 'plutus-client', map), 'utf8'))
      .sources.map((source) => posix.normalize(posix.join(posix.dirname(map), source)))
      .filter((source) => !packed.has(source)),
  );
  if (dangling.length) throw new Error(`source maps point at files the tarball lacks: ${dangling.slice(0, 5).join(', ')}`);
  console.log(`tarball: LICENSE, ${targets.length} export targets and ${maps.length} source maps all resolve inside it`);
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
