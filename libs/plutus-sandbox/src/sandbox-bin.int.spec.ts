import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
/** The commands as `npx` finds them: linked by npm at install, run by the `node` on the PATH. */
const run = (command: string, args: string[]) =>
  spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` },
  });

describe('the commands npm links at install', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sandbox-bin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('npx plutus-sandbox: linked into node_modules/.bin, executable, runs the built CLI', () => {
    const bin = join(ROOT, 'node_modules', '.bin', 'plutus-sandbox');
    expect(existsSync(bin)).toBe(true);
    const dumped = run(bin, ['--dump', join(dir, 'dataset'), '--months', '1']);
    expect([dumped.status, dumped.stderr]).toEqual([0, expect.any(String)]);
    for (const file of ['rewards.json', 'transactions.json']) expect(existsSync(join(dir, 'dataset', file))).toBe(true);
  });

  it('before the build, says how to build instead of a stack trace', () => {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(__dirname, '..', 'bin', 'plutus-sandbox.js'), join(dir, 'bin', 'plutus-sandbox.js'));
    const unbuilt = run(process.execPath, [join(dir, 'bin', 'plutus-sandbox.js'), '--help']);
    expect(unbuilt.status).toBe(2);
    expect(unbuilt.stderr).toContain('not built yet (no dist/cli.js). In the repository, run `npx nx build @org/plutus-sandbox`');
  });
});
