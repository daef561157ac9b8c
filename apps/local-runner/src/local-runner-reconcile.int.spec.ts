import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbDatabase, FileObjectStore } from '@org/local-adapters';
import { objectLayout, readLakeRuns } from '@org/pipeline';
import { dumpDataset, generateHistory } from '@org/plutus-sandbox';

jest.setTimeout(240_000);

const CLI = join(__dirname, '..', 'dist', 'cli.js');

interface Exit {
  code: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The real CLI as a child process, the sandbox's clock fixed; `interruptWhen` sends `signal` once stderr matches it. */
function cli(
  dataDir: string,
  args: string[],
  sandboxNow: string,
  interruptWhen?: RegExp,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['INIT_CWD'];
    const child = spawn(process.execPath, [CLI, ...args, '--data-dir', dataDir, '--sandbox-now', sandboxNow], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (interruptWhen && !sent && interruptWhen.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const DAYS = ['2026-06-30T12:00:00Z', '2026-07-02T12:00:00Z', '2026-07-04T12:00:00Z', '2026-07-06T12:00:00Z'];

/** SQL on the data dir's warehouse by hand, as a user with a SQL client would. */
async function sql(dataDir: string, ...statements: string[]): Promise<Record<string, unknown>[]> {
  const database = new DuckDbDatabase(join(dataDir, 'warehouse.duckdb'));
  try {
    let rows: Record<string, unknown>[] = [];
    for (const statement of statements) rows = await database.query(statement);
    return rows;
  } finally {
    await database.close();
  }
}

const counts = async (dataDir: string) =>
  (
    await sql(
      dataDir,
      'SELECT (SELECT count(*) FROM transactions)::INT AS transactions, (SELECT count(*) FROM rewards)::INT AS rewards, (SELECT count(*) FROM reward_facts)::INT AS reward_facts',
    )
  )[0];

// The warehouse proven against the lake through the real entry point: what a run repairs, what it refuses, and
// what `verify` reports, on a data dir changed as users and accidents change them.
describe('local-runner: the warehouse reconciled with the lake', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'local-runner-reconcile-')), 'data');
  });
  afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }));

  const runs = async (days: readonly string[]) => {
    for (const day of days) expect((await cli(dataDir, ['run'], day)).code).toBe(0);
  };

  it('verify: exit 0 on a healthy data dir (with --deep), exit 1 once rows are deleted by hand; the next run refuses, naming rebuild', async () => {
    await runs(DAYS.slice(0, 2));
    const healthy = await cli(dataDir, ['verify', '--deep'], DAYS[1]);
    expect([healthy.code, healthy.stdout]).toEqual([0, expect.stringContaining('verify: everything agrees')]);
    expect(healthy.stdout).toMatch(/ok {4}deep: digests from Parquet and tables/);

    await sql(
      dataDir,
      'DELETE FROM "_pipeline"."rewards" WHERE reward_id IN (SELECT reward_id FROM "_pipeline"."rewards" ORDER BY reward_id LIMIT 51)',
    );
    const before = await counts(dataDir);
    const broken = await cli(dataDir, ['verify'], DAYS[1]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /FAIL {2}warehouse against lake: .*\n {8}- rewards: \d+ rows in the table, but its ledger recorded \d+ after its last load/,
    );

    const refused = await cli(dataDir, ['run'], DAYS[2]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /WarehouseDisagreesError: The warehouse disagrees with the lake: rewards: .*Nothing was loaded\. Rebuild it from the lake: `local-runner rebuild`/,
    );
    expect(await counts(dataDir)).toEqual(before);

    expect((await cli(dataDir, ['rebuild'], DAYS[2])).code).toBe(0);
    await runs([DAYS[2]]);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[2])).code).toBe(0);
  });

  it("the ledger's figures per month: verify --deep finds one changed by hand, rebuild mends it; figures deleted are computed again by the next run", async () => {
    await runs(DAYS.slice(0, 1));
    const months = '"_pipeline"."load_ledger_months"';
    await sql(
      dataDir,
      `UPDATE ${months} SET "seconds" = "seconds" + 1 WHERE "dataset" = 'rewards' AND "month" = (SELECT max("month") FROM ${months} WHERE "dataset" = 'rewards')`,
    );
    // Totals still agree with the tables: only the deep check recomputes them month by month.
    expect((await cli(dataDir, ['verify'], DAYS[0])).code).toBe(0);
    const deep = await cli(dataDir, ['verify', '--deep'], DAYS[0]);
    expect(deep.code).toBe(1);
    expect(deep.stdout).toMatch(
      /- rewards \d{4}-\d{2}: the ledger's figures per month say \d+ rows \(\d+ s\), the table holds \d+ \(\d+ s\)/,
    );
    expect(deep.stdout).toContain('mended by `rebuild`');
    expect((await cli(dataDir, ['rebuild'], DAYS[0])).code).toBe(0);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[0])).code).toBe(0);

    await sql(
      dataDir,
      `DELETE FROM ${months} WHERE "dataset" = 'transactions' AND "month" = (SELECT max("month") FROM ${months} WHERE "dataset" = 'transactions')`,
    );
    const missing = await cli(dataDir, ['verify'], DAYS[0]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(
      /the ledger's figures per month count \d+ transactions where the table holds \d+: the next run computes them again/,
    );
    await runs([DAYS[1]]);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[1])).code).toBe(0);
    // A warehouse of an earlier version keeps none: not a difference, and the next load computes them.
    await sql(dataDir, `DROP TABLE ${months}`);
    const upgraded = await cli(dataDir, ['verify', '--deep'], DAYS[1]);
    expect([upgraded.code, upgraded.stdout]).toEqual([
      0,
      expect.stringContaining('keeps no figures per month of transactions or rewards yet'),
    ]);
    await runs([DAYS[2]]);
    const after = await cli(dataDir, ['verify', '--deep'], DAYS[2]);
    expect([after.code, after.stdout]).toEqual([0, expect.not.stringContaining('keeps no figures per month')]);
  });

  it('a warehouse restored from a backup: the next run replays the committed runs it lacks, in order, and says so', async () => {
    await runs(DAYS.slice(0, 1));
    await copyFile(join(dataDir, 'warehouse.duckdb'), join(dataDir, '..', 'backup.duckdb'));
    await runs(DAYS.slice(1, 3));
    const full = await counts(dataDir);
    await copyFile(join(dataDir, '..', 'backup.duckdb'), join(dataDir, 'warehouse.duckdb'));
    expect(existsSync(join(dataDir, 'warehouse.duckdb.wal'))).toBe(false);
    expect((await counts(dataDir)).transactions).toBeLessThan(full.transactions as number);

    const stale = await cli(dataDir, ['verify'], DAYS[2]);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('2 committed run(s) are not in the warehouse');

    const next = await cli(dataDir, ['run'], DAYS[2]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/reconcile: replaying committed run 1\/2 .*\n(.*\n)*reconcile: replaying committed run 2\/2/);
    expect(await counts(dataDir)).toEqual(full);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[2])).code).toBe(0);
  });

  it('reward_facts dropped by hand: the next run derives it again from the tables', async () => {
    await runs(DAYS.slice(0, 1));
    const full = await counts(dataDir);
    await sql(dataDir, 'DROP TABLE "_pipeline"."reward_facts"');
    const next = await cli(dataDir, ['run'], DAYS[0]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/reconcile: reward_facts had 0 rows where its ledger recorded \d+: derived again from the tables/);
    expect(await counts(dataDir)).toEqual(full);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[0])).code).toBe(0);
  });

  it('a rebuild is made beside the warehouse and swapped in whole: Ctrl-C, kill -9 or an unreadable run leave the old one as it was', async () => {
    await runs(DAYS.slice(0, 1));
    const backup = join(dataDir, '..', 'backup.duckdb');
    await copyFile(join(dataDir, 'warehouse.duckdb'), backup);
    await runs(DAYS.slice(1, 3));
    const full = await counts(dataDir);
    const staged = join(dataDir, 'warehouse.duckdb.rebuild');

    const stopped = await cli(dataDir, ['rebuild'], DAYS[2], /rebuild: run 1\/3/);
    expect(stopped.code).toBe(130);
    expect(await counts(dataDir)).toEqual(full);
    expect(existsSync(staged)).toBe(false);
    const killed = await cli(dataDir, ['rebuild'], DAYS[2], /rebuild: run 1\/3/, 'SIGKILL');
    expect(killed.signal ?? killed.code).not.toBe(0);
    expect(await counts(dataDir)).toEqual(full);
    // The next run finds the warehouse as it was: nothing to replay.
    const next = await cli(dataDir, ['run'], DAYS[2]);
    expect(next.code).toBe(0);
    expect(next.stderr).not.toMatch(/reconcile: replaying/);
    expect(await counts(dataDir)).toEqual(full);
    const rebuilt = await cli(dataDir, ['rebuild'], DAYS[2]);
    expect([rebuilt.code, rebuilt.stderr]).toEqual([0, expect.stringContaining('the rebuilt warehouse replaced the old one')]);
    expect(existsSync(staged)).toBe(false);
    expect(await counts(dataDir)).toEqual(full);
    expect((await cli(dataDir, ['verify', '--deep'], DAYS[2])).code).toBe(0);

    // One curated Parquet file of the second run gone: the rebuild fails there and changes nothing.
    const { committed } = await readLakeRuns(new FileObjectStore(dataDir));
    await rm(join(dataDir, committed[1].parts.transactions[0]));
    expect((await cli(dataDir, ['rebuild'], DAYS[2])).code).toBe(1);
    expect(await counts(dataDir)).toEqual(full);
    expect(existsSync(staged)).toBe(false);
    // A warehouse restored from before that run cannot be completed from the lake: every run refuses, naming the run.
    await copyFile(backup, join(dataDir, 'warehouse.duckdb'));
    const after = await cli(dataDir, ['run'], DAYS[2]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`ReplayFailedError: Replaying committed run ${committed[1].runId} into the warehouse failed`);
  });

  it('a crash between the warehouse commit and the manifest: the next run records that load from the ledger and registers its partitions', async () => {
    await runs(DAYS.slice(0, 2));
    const store = new FileObjectStore(dataDir);
    const { committed } = await readLakeRuns(store);
    const crashed = committed[1].runId;
    // As the process left it when killed right after the warehouse committed: the manifest still says the load is
    // running, no catalog nor commit step, the cursor where it was before the run, no partitions registered.
    const path = join(dataDir, objectLayout.manifest(crashed));
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    manifest.status = 'failed';
    manifest.steps.load = { status: 'running', startedAt: manifest.steps.load.startedAt };
    delete manifest.steps.catalog;
    delete manifest.steps.commit;
    delete manifest.cursorAfter;
    delete manifest.chain;
    await writeFile(path, JSON.stringify(manifest, null, 2));
    await writeFile(join(dataDir, objectLayout.cursor), JSON.stringify(manifest.cursorBefore, null, 2));
    await sql(dataDir, `DELETE FROM lake_partitions WHERE run_id = '${crashed}'`);

    const next = await cli(dataDir, ['run'], DAYS[2]);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`reconcile: run ${crashed}: its load committed but its manifest never said so`);
    const verified = await cli(dataDir, ['verify', '--deep'], DAYS[2]);
    expect([verified.code, verified.stdout]).toEqual([0, expect.stringContaining('verify: everything agrees')]);
  });

  it('the audit trail: an edited committed manifest makes verify fail, naming it', async () => {
    await runs(DAYS.slice(0, 3));
    expect((await cli(dataDir, ['verify'], DAYS[2])).code).toBe(0);
    const { committed } = await readLakeRuns(new FileObjectStore(dataDir));
    const path = join(dataDir, objectLayout.manifest(committed[0].runId));
    await writeFile(path, (await readFile(path, 'utf8')).replace('"status": "succeeded"', '"status": "failed"'));
    const edited = await cli(dataDir, ['verify'], DAYS[2]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain(`- the manifest of run ${committed[0].runId} changed after run ${committed[1].runId} committed`);
  });

  it('the lake against the source: late rows are found by count and pulled by the next run; rows no longer served are listed by key until --accept', async () => {
    const history = generateHistory({ seed: 7, start: new Date('2026-01-01T00:00:00Z'), now: new Date('2026-06-30T00:00:00Z') });
    const inMonth = (month: string) =>
      history.transactions.filter((row) => String(row.date).startsWith(month)).map((row) => String(row.id));
    const late = inMonth('2026-03').slice(0, 3);
    const gone = inMonth('2026-04').slice(0, 2);
    const exportDir = join(dataDir, '..', 'export');
    await dumpDataset({ ...history, transactions: history.transactions.filter((row) => !late.includes(String(row.id))) }, exportDir);
    const withExport = (args: string[]) => cli(dataDir, [...args, '--sandbox-data', exportDir], DAYS[0]);
    expect((await withExport(['run'])).code).toBe(0);
    expect((await withExport(['verify'])).code).toBe(0);

    // The export refreshed: three March rows arrive late, two April rows are no longer served.
    await dumpDataset({ ...history, transactions: history.transactions.filter((row) => !gone.includes(String(row.id))) }, exportDir);
    const differs = await withExport(['verify']);
    expect(differs.code).toBe(1);
    const lines = differs.stdout.split('\n');
    expect(lines.find((line) => line.includes('- 2026-03:'))).toMatch(
      /the source serves (\d+) transaction\(s\), the lake holds \d+; missing: /,
    );
    for (const id of late) expect(lines.find((line) => line.includes('- 2026-03:'))).toContain(id);
    for (const id of gone) expect(lines.find((line) => line.includes('- 2026-04:'))).toContain(id);
    expect(lines.find((line) => line.includes('- 2026-04:'))).toContain('no longer served');

    // The next run finds the difference by count, narrows it to March and April, and pulls both months again:
    // the late rows land; the rows no longer served cannot be closed by a pull.
    const repair = await withExport(['run']);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(
      /extract: the source serves \d+ transaction\(s\) dated 2026-03, the lake holds \d+: pulling 2026-03 again/,
    );
    // The dashboard's Data health says what the reconciliation did.
    expect(await readFile(join(dataDir, 'dashboard.html'), 'utf8')).toMatch(
      /source: 2 month\(s\) differed, pulled again: 2026-03, 2026-04/,
    );
    const landed = await sql(
      dataDir,
      `SELECT count(*)::INT AS n FROM transactions WHERE transaction_id IN (${late.map((id) => `'${id}'`).join(', ')})`,
    );
    expect(landed).toEqual([{ n: 3 }]);
    const left = await withExport(['verify']);
    expect(left.code).toBe(1);
    expect(left.stdout).not.toContain('- 2026-03:');
    for (const id of gone) expect(left.stdout).toContain(id);
    // Pulled again once, April is not pulled again while its difference stays the same.
    const again = await withExport(['run']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('1 month(s) still differ from the source as they did after being pulled again (2026-04)');
    // And once nothing is left to pull, the runs after compare the totals only, until they change.
    const settled = await withExport(['run']);
    expect(settled.code).toBe(0);
    expect(settled.stderr).toMatch(
      /the source serves \d+ transaction\(s\) before 2026-06, the lake holds \d+, as at the last check: nothing left to pull/,
    );

    expect((await withExport(['verify', '--accept'])).code).toBe(0);
    const accepted = await withExport(['verify']);
    expect([accepted.code, accepted.stdout]).toEqual([
      0,
      expect.stringMatching(/ok {4}lake against source: .*1 month\(s\) differ, 1 acknowledged/),
    ]);
  });
  it('the rewards ledger against the lake: a reward quarantined once and mended at the source (same updatedAt) lands on the next run; one bad for good is listed until --accept', async () => {
    const history = generateHistory({ seed: 11, start: new Date('2026-01-01T00:00:00Z'), now: new Date('2026-06-30T00:00:00Z') });
    const inMarch = history.rewards.filter((row) => String(row.updatedAt ?? row.createdAt).startsWith('2026-03'));
    const [mended, broken] = inMarch.map((row) => String(row.id));
    const exportDir = join(dataDir, '..', 'export');
    const serve = (bad: readonly string[]) =>
      dumpDataset(
        {
          ...history,
          // An amount that breaks the API's document, as a real export may hold: landed, then quarantined.
          rewards: history.rewards.map((row) => (bad.includes(String(row.id)) ? { ...row, amount: 'twelve' as unknown as number } : row)),
        },
        exportDir,
      );
    const withExport = (args: string[]) => cli(dataDir, [...args, '--sandbox-data', exportDir], DAYS[0]);
    const held = async (id: string) => (await sql(dataDir, `SELECT count(*)::INT AS n FROM rewards WHERE reward_id = '${id}'`))[0];

    // Both arrive with an amount that is not a number: quarantined, with the reason.
    await serve([mended, broken]);
    expect((await withExport(['run'])).code).toBe(0);
    expect(await held(mended)).toEqual({ n: 0 });
    const quarantined = await withExport(['verify']);
    expect(quarantined.code).toBe(1);
    const line = quarantined.stdout.split('\n').find((text) => text.includes('rewards 2026-03:')) ?? '';
    expect(line).toMatch(/the ledger holds \d+ reward\(s\) last changed then, the lake \d+; missing or at an older version: /);
    for (const id of [mended, broken]) expect(line).toContain(id);

    // One is mended at the source without a new updatedAt: outside every later window, but the ledger's March no
    // longer matches the lake's, so the next run lands March again.
    await serve([broken]);
    const repair = await withExport(['run']);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(
      /extract: the rewards ledger holds \d+ reward\(s\) last changed in 2026-03, the lake \d+ \(or other versions\): landing 2026-03 again/,
    );
    expect(await held(mended)).toEqual({ n: 1 });
    expect(await held(broken)).toEqual({ n: 0 });
    expect(await readFile(join(dataDir, 'dashboard.html'), 'utf8')).toContain('rewards ledger: 1 month(s) differed, landed again: 2026-03');

    // The other stays bad: March is not landed again while the ledger's March stays the same; verify lists it.
    const again = await withExport(['run']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('1 reward month(s) still differ from the ledger as they did after being landed again (2026-03)');
    const left = await withExport(['verify']);
    expect(left.code).toBe(1);
    expect(left.stdout).toContain(broken);
    expect(left.stdout).not.toContain(mended);
    expect((await withExport(['verify', '--accept'])).code).toBe(0);
    expect((await withExport(['verify'])).code).toBe(0);
  });
  it("two cardholders never mix silently: with the data dir's own record gone, the rows' account refuses another seed (exit 2) until --allow-source-change", async () => {
    expect((await cli(dataDir, ['run', '--sandbox-seed', '1'], DAYS[0])).code).toBe(0);
    const before = await counts(dataDir);
    // The data dir's record of its source is lost (an older data dir, a store copied without state/source.json).
    await rm(join(dataDir, 'state', 'source.json'));
    const other = await cli(dataDir, ['run', '--sandbox-seed', '2'], DAYS[1]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /SourceChangedError: This run's transactions belong to account [0-9a-f-]+, but the lake and the warehouse hold rows of account [0-9a-f-]+ only/,
    );
    expect(other.stderr).toContain('--allow-source-change');
    expect(await counts(dataDir)).toEqual(before);
    const mixed = await cli(dataDir, ['run', '--sandbox-seed', '2', '--allow-source-change'], DAYS[1]);
    expect(mixed.code).toBe(0);
    expect((await counts(dataDir))['transactions']).toBeGreaterThan(before['transactions'] as number);
  });
});
