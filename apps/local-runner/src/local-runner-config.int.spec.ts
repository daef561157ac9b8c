import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

import { runCliChild } from '../test/cli-child';

jest.setTimeout(60_000);

/** The real CLI with any arguments (and these variables), to its end. */
const cliArgs = (args: string[], env: Record<string, string> = {}) => runCliChild(args, env);

// Configuration mistakes are usage errors (exit 2) named as such, before any request: never retried as if the network had cut off.
describe('local-runner refuses a Plutus configuration that cannot work', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'local-runner-config-')), 'data');
  });
  afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }));

  it.each([
    [
      'a TOTP secret that is not base32',
      { PLUTUS_EMAIL: 'me@example.com', PLUTUS_PASSWORD: 'secret', PLUTUS_TOTP_SECRET: 'not-base32-1890!' },
      'PLUTUS_TOTP_SECRET is not base32',
    ],
    [
      'a base URL with a user name and password in it',
      { PLUTUS_BASE_URL: 'https://me:pw@api.plutus.it', PLUTUS_ID_TOKEN: 'eyJhbGciOiJub25lIn0.e30.' },
      'PLUTUS_BASE_URL carries a user name or password',
    ],
    [
      'an id_token pasted with a line break',
      { PLUTUS_ID_TOKEN: 'eyJhbGciOiJub25lIn0\n.e30.' },
      'PLUTUS_ID_TOKEN contains a space, line break',
    ],
  ])('%s: exit 2 with what to fix, no retries, no secret printed', async (_, env, message) => {
    const result = await cliArgs(['run', '--data-dir', dataDir], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/attempts|cut off/);
    expect(result.stderr).not.toContain(':pw@');
  });
});

describe('local-runner --time-zone', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'local-runner-zone-')), 'data');
  });
  afterAll(() => rm(join(dataDir, '..'), { recursive: true, force: true }));
  const dashboardDays = (html: string) => [...html.matchAll(/Generated (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) ([\w/]+)/g)].map((m) => m[2]);

  it("groups the views and labels the dashboard in the zone asked for (flag, else REPORTING_TIME_ZONE), never the machine's; a bad zone is exit 2", async () => {
    const now = ['--sandbox-now', '2026-06-30T23:30:00Z', '--sandbox-months', '2'];
    const run = await cliArgs(['run', '--data-dir', dataDir, ...now, '--time-zone', 'Pacific/Auckland'], { TZ: 'America/New_York' });
    expect([run.code, run.stderr.slice(-400)]).toEqual([0, expect.any(String)]);
    const html = readFileSync(join(dataDir, 'dashboard.html'), 'utf8');
    expect(dashboardDays(html)).toEqual(['Pacific/Auckland']);
    expect(html).toContain('per day (Pacific/Auckland)');
    // The same warehouse drawn in another zone by the dashboard command alone: the page follows the zone asked for.
    const utc = await cliArgs(['dashboard', '--data-dir', dataDir], { REPORTING_TIME_ZONE: 'Europe/London', TZ: 'Asia/Tokyo' });
    expect(utc.code).toBe(0);
    expect(dashboardDays(readFileSync(join(dataDir, 'dashboard.html'), 'utf8'))).toEqual(['Europe/London']);
    for (const [args, env, message] of [
      [['--time-zone', 'BST'], {}, '--time-zone: Not a time zone name: "BST"'],
      [[], { REPORTING_TIME_ZONE: "UTC'; DROP TABLE rewards; --" }, 'REPORTING_TIME_ZONE: Not a time zone name'],
    ] as const) {
      const bad = await cliArgs(['dashboard', '--data-dir', dataDir, ...args], { ...env });
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining(message)]);
    }
  });
});

describe('npm start', () => {
  it('bundles the runner from its sources and runs it: a run the tsc-built CLI then verifies, all checks agreeing', async () => {
    const root = join(__dirname, '..', '..', '..');
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start'];
    expect(script).toBe('node apps/local-runner/scripts/start.mjs');
    const dataDir = join(await mkdtemp(join(tmpdir(), 'npm-start-')), 'data');
    try {
      const start = spawnSync(
        process.execPath,
        [join(root, 'apps', 'local-runner', 'scripts', 'start.mjs'), '--data-dir', dataDir, '--sandbox-months', '2'],
        {
          cwd: root,
          encoding: 'utf8',
          env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_'))),
        },
      );
      expect([start.status, start.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
      expect(readFileSync(join(dataDir, 'dashboard.html'), 'utf8')).toContain('<svg');
      const verify = await cliArgs(['verify', '--data-dir', dataDir, '--json']);
      expect(verify.code).toBe(0);
      expect((JSON.parse(verify.stdout) as { ok: boolean }).ok).toBe(true);
      // The load kept the data health in the warehouse for BI tools: the run it loaded, as its manifest names it.
      const manifests = readdirSync(join(dataDir, 'runs'));
      const db = await (await DuckDBInstance.create(join(dataDir, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })).connect();
      const runs = (await db.runAndReadAll('SELECT run_id FROM report_recent_runs')).getRowObjectsJson().map((row) => row['run_id']);
      db.closeSync();
      expect(runs).toEqual(manifests);
    } finally {
      await rm(join(dataDir, '..'), { recursive: true, force: true });
    }
  });
});

describe('npx local-runner', () => {
  it('is linked by npm at install (the command the error messages name), and its --json output is the JSON alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-runner-bin-'));
    try {
      const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_')));
      const run = spawnSync(
        join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'local-runner'),
        ['run', '--json', '--sandbox-months', '1', '--data-dir', join(dir, 'data')],
        { encoding: 'utf8', env: { ...base, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` } },
      );
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, source: 'sandbox (synthetic)' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the documented options and outputs hold', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'local-runner-options-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('run --help prints the usage; --json output is JSON even when the command fails', async () => {
    const help = await cliArgs(['run', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage:\n  local-runner run')]);
    const missing = await cliArgs(['run', '--json', '--data-dir', join(dir, 'data'), '--sandbox-data', join(dir, 'nonexistent')]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, exitCode: 2, error: expect.stringContaining('nonexistent') });
    const unlock = await cliArgs(['unlock', '--json', '--data-dir', join(dir, 'data')]);
    expect([unlock.code, JSON.parse(unlock.stdout)]).toEqual([0, { ok: true, removed: null, unreadableRemoved: false }]);
  });

  it("run --json prints what the README's RunOutcome block says: every field it prints is documented, every required one is there", async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = /interface RunOutcome \{([\s\S]*?)\n\}/.exec(readme)?.[1] ?? '';
    const fields = [...block.matchAll(/^\s+(\w+)(\??):/gm)].map((match) => ({ name: match[1], optional: match[2] === '?' }));
    expect(fields.length).toBeGreaterThan(10);
    const run = await cliArgs(['run', '--json', '--sandbox-months', '1', '--data-dir', join(dir, 'data')]);
    expect(run.code).toBe(0);
    const printed = Object.keys(JSON.parse(run.stdout) as object);
    expect(printed.filter((name) => !fields.some((field) => field.name === name))).toEqual([]);
    expect(fields.filter((field) => !field.optional && !printed.includes(field.name))).toEqual([]);
  });

  it('looker writes the LookML project for the connection and schema given', async () => {
    const out = join(dir, 'lookml');
    const written = await cliArgs(['looker', '--out', out, '--connection', 'analytics', '--schema', 'rewards', '--json']);
    expect(written.code).toBe(0);
    expect(JSON.parse(written.stdout)).toMatchObject({ ok: true, out, files: expect.arrayContaining([join(out, 'rewards.model.lkml')]) });
    expect(readFileSync(join(out, 'rewards.model.lkml'), 'utf8')).toContain('connection: "analytics"');
    expect(readFileSync(join(out, 'views', 'reward_facts.view.lkml'), 'utf8')).toContain('sql_table_name: "rewards"."reward_facts" ;;');
    const defaults = await cliArgs(['looker', '--data-dir', join(dir, 'data')]);
    expect([defaults.code, defaults.stdout.trim()]).toEqual([0, `looker: 7 files in ${join(dir, 'data', 'looker')}`]);
    expect((await cliArgs(['looker', '--out', out, '--schema', 'a"b'])).code).toBe(2);
  });

  it('real credentials beside a sandbox option are a contradiction (exit 2); status and unlock never read credentials', async () => {
    const both = await cliArgs(['run', '--data-dir', join(dir, 'data'), '--sandbox-seed', '7'], { PLUTUS_ID_TOKEN: 'eyJ.e30.' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('PLUTUS_ID_TOKEN is set, so this run reads real Plutus, but --sandbox-seed is for the sandbox');
    expect((await cliArgs(['status', '--data-dir', join(dir, 'data')], { PLUTUS_ID_TOKEN: '' })).code).toBe(0);
  });

  it('status says the warehouse is missing when the cursor says rows were loaded', async () => {
    const data = join(dir, 'data');
    expect((await cliArgs(['run', '--sandbox-months', '1', '--data-dir', data])).code).toBe(0);
    await rm(join(data, 'warehouse.duckdb'));
    const status = await cliArgs(['status', '--data-dir', data]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/warehouse rows: MISSING: the cursor says run \S+ left \d+ rows; restore it with `local-runner rebuild`/);
    expect(JSON.parse((await cliArgs(['status', '--json', '--data-dir', data])).stdout)).toMatchObject({ warehouseMissing: true });
  });
});

describe('a user mistake gets a message, not a stack trace', () => {
  let dir: string;
  let busy: Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-runner-mistakes-'));
    await mkdir(join(dir, 'data', 'state'), { recursive: true });
    await writeFile(join(dir, 'data', 'state', 'cursor.json'), '{not json');
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['status with a corrupt cursor', () => ['status', '--data-dir', join(dir, 'data')], 'CursorUnreadableError: The cursor'],
    ['sandbox --port abc', () => ['sandbox', '--port', 'abc'], '--port must be a number, got abc'],
    ['an unknown sandbox option', () => ['sandbox', '--bogus'], "Unknown option '--bogus' (--help lists the options)"],
    ['a sandbox on a busy port', () => ['sandbox', '--port', String((busy.address() as { port: number }).port)], 'EADDRINUSE'],
  ])('%s', async (_, args, message) => {
    const result = await cliArgs(args());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
