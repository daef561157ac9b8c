import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { totpCode } from '@org/plutus-client/internal';
import { DEMO_CREDENTIALS, FAULT_CONTROL_PATH, startSandbox } from './sandbox-server';

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

describe('the sandbox for tests written in any language', () => {
  it('plutus-sandbox totp prints the code valid now; --faults must be JSON', () => {
    const bin = join(ROOT, 'node_modules', '.bin', 'plutus-sandbox');
    const before = Date.now();
    const printed = run(bin, ['totp']);
    expect(printed.status).toBe(0);
    const codes = [before - 30_000, before, Date.now()].map((at) => totpCode(DEMO_CREDENTIALS.totpSecret, at));
    expect(codes).toContain(printed.stdout.trim());
    const bad = run(bin, ['--faults', '{oops', '--port', '0']);
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--faults must be JSON')]);
  });

  it('takes faults over HTTP from this machine when asked to, and not otherwise', async () => {
    const sandbox = await startSandbox({ months: 1, faultControl: true });
    const plain = await startSandbox({ months: 1 });
    try {
      const token = sandbox.issueToken();
      const rewards = () => fetch(`${sandbox.url}/platform/transactions/pluton`, { headers: { authorization: `Bearer ${token}` } });
      const put = await fetch(`${sandbox.url}${FAULT_CONTROL_PATH}`, {
        method: 'PUT',
        body: JSON.stringify({ serverError: { times: 1, status: 503, routes: ['rewards'] } }),
      });
      expect(put.status).toBe(200);
      expect((await rewards()).status).toBe(503);
      expect((await rewards()).status).toBe(200);
      expect(await (await fetch(`${sandbox.url}${FAULT_CONTROL_PATH}`)).json()).toEqual({
        serverError: { times: 1, status: 503, routes: ['rewards'] },
      });
      expect((await fetch(`${sandbox.url}${FAULT_CONTROL_PATH}`, { method: 'PUT', body: '[1]' })).status).toBe(400);
      expect((await fetch(`${plain.url}${FAULT_CONTROL_PATH}`, { method: 'PUT', body: '{}' })).status).toBe(404);
    } finally {
      await sandbox.close();
      await plain.close();
    }
  });
});
