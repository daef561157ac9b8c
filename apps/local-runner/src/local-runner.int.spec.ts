import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbCatalog, DuckDbDatabase, DuckDbWarehouse, FileObjectStore } from '@org/local-adapters';
import { EMPTY_CURSOR, extractStep, newRunId, readCursor, transformStep, type PipelineContext } from '@org/pipeline';
import { createPlutusClient } from '@org/plutus-client';
import { dumpDataset, startSandbox, type SandboxDataset } from '@org/plutus-sandbox';
import { parseCsv, type CuratedDataset } from '@org/rewards-transform';
import { runLocalRunnerCli } from './local-runner-cli';
import { WAREHOUSE_FILE } from './run-pipeline';

const DATASETS: CuratedDataset[] = ['transactions', 'rewards', 'reward_facts'];
jest.setTimeout(60_000);

// End to end through the CLI, on the embedded sandbox: the same state machine, files on disk, DuckDB.
describe('local-runner end to end', () => {
  /** The folder the CLI runs in; its default data folder is `.data` inside it. */
  let workDir: string;
  let dataDir: string;
  let out: string[];
  let err: string[];
  const cliWithEnv = (env: NodeJS.ProcessEnv, ...argv: string[]) => {
    out = [];
    err = [];
    return runLocalRunnerCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env, cwd: workDir });
  };
  const cli = (...argv: string[]) => cliWithEnv({}, ...argv);
  const inWarehouse = async <T>(use: (database: DuckDbDatabase, warehouse: DuckDbWarehouse) => Promise<T>): Promise<T> => {
    const database = new DuckDbDatabase(join(dataDir, WAREHOUSE_FILE));
    try {
      return await use(database, new DuckDbWarehouse(database, (key) => key));
    } finally {
      await database.close();
    }
  };
  const checksums = () => inWarehouse(async (_, warehouse) => Promise.all(DATASETS.map((dataset) => warehouse.tableChecksum(dataset))));
  const count = (sql: string) =>
    inWarehouse(async (database) => (await database.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${sql}`))[0].n);
  const sandboxData = async (now: string): Promise<SandboxDataset> => {
    const sandbox = await startSandbox({ now, months: 12 });
    try {
      return sandbox.data();
    } finally {
      await sandbox.close();
    }
  };

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'local-runner-'));
    dataDir = join(workDir, '.data');
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  it('loads everything on a first run, changes nothing on a re-run, and adds only what is new later', async () => {
    const now = '2026-06-30T12:00:00Z';
    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(0);
    expect(out.join('\n')).toContain('Run succeeded');
    expect(out.join('\n')).toContain(`manifest:  ${dataDir}/runs/`);
    expect(out.join('\n')).toMatch(/transactions +\d+ +\d+ +0 +0 +\d+/);
    expect(err.some((line) => /^extract: transactions \d+\/\d+$/.test(line))).toBe(true);
    expect(out.join('\n')).toContain(`dashboard: ${dataDir}/dashboard.html`);
    const page = await readFile(join(dataDir, 'dashboard.html'), 'utf8');
    expect((page.match(/data-has-data="true"/g) ?? []).length).toBe(7);
    // The page names its warehouse beside it, never this machine's folders.
    expect(page).toContain(' from warehouse.duckdb.');
    expect(page).not.toContain(workDir);
    const data = await sandboxData(now);
    expect(await count('transactions')).toBe(data.transactions.length);
    expect(await count('rewards')).toBe(data.rewards.length);
    expect(await count('reward_facts')).toBe(data.rewards.length);
    const firstSums = await checksums();

    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(0);
    expect(await checksums()).toEqual(firstSums);

    const later = '2026-07-10T12:00:00Z';
    expect(await cli('run', '--sandbox-now', later, '--sandbox-months', '12', '--json')).toBe(0);
    const outcome = JSON.parse(out.join('\n'));
    expect(outcome.manifest.steps.extract.counts.transactions).toBeLessThan(data.transactions.length / 5);
    const laterData = await sandboxData(later);
    // Everything loaded before stays (the sandbox's window slid past some old rows), and the new rows arrived.
    const ids = new Set([...data.transactions, ...laterData.transactions].map((row) => row.id));
    expect(await count('transactions')).toBe(ids.size);
    const available = laterData.rewards.filter((reward) => reward.available).length;
    const before = new Map(data.rewards.map((reward) => [reward.id, reward]));
    const vested = laterData.rewards.filter((reward) => reward.available && before.get(reward.id)?.available === false);
    expect(vested.length).toBeGreaterThan(0); // status changes happened, and must be applied:
    const laterIds = new Set(laterData.rewards.map((reward) => reward.id));
    expect(await count(`rewards WHERE is_available AND reward_id IN (${[...laterIds].map((id) => `'${id}'`).join(',')})`)).toBe(available);
    expect(await count('reward_facts WHERE is_rejected')).toBe(await count("rewards WHERE reason = 'Rejected by admin'"));
    // status counts the rows: the later run replaced some, which an estimate would count twice.
    expect(await cli('status')).toBe(0);
    for (const table of ['transactions', 'rewards', 'reward_facts']) {
      expect(out.join('\n')).toMatch(new RegExp(`warehouse rows: .*\\b${table} ${await count(table)}\\b`));
    }
  });

  it('joins a reward to a transaction that was loaded in an earlier run', async () => {
    const old = {
      id: 't-old',
      currency: 'GBP',
      amount: -4200,
      date: '2026-03-01T10:00:00+00:00',
      type: 'PURCHASE',
      is_debit: true,
      description: 'LIDL GB LONDON',
    };
    const recent = {
      id: 't-recent',
      currency: 'GBP',
      amount: -500,
      date: '2026-06-29T10:00:00+00:00',
      type: 'PURCHASE',
      is_debit: true,
      description: 'PRET A MANGER',
    };
    const first = join(workDir, 'first');
    const second = join(workDir, 'second');
    await dumpDataset({ transactions: [recent, old], rewards: [] }, first);
    const reward = {
      id: 'r-late',
      amount: 0.3,
      available: false,
      reason: null,
      createdAt: '2026-06-30T08:00:00Z',
      updatedAt: '2026-06-30T08:00:00Z',
      rebate_rate: 0.03,
      fiat_amount_rewarded: '1.26',
      currency: 'GBP',
      reference_type: 'card_transaction',
      reference_id: 't-old',
      type: 'REBATE',
    };
    await dumpDataset({ transactions: [recent, old], rewards: [reward] }, second);
    expect(await cli('run', '--sandbox-data', first)).toBe(0);
    expect(await cli('run', '--sandbox-data', second, '--json')).toBe(0);
    expect(JSON.parse(out.join('\n')).manifest.steps.extract.counts).toMatchObject({ transactions: 1, rewards: 1, rewards_ledger_rows: 1 });
    const [fact] = await inWarehouse((database) =>
      database.query(
        "SELECT has_transaction, merchant, transaction_amount::VARCHAR AS amount, round(plu_price, 4) AS price FROM reward_facts WHERE reward_id = 'r-late'",
      ),
    );
    expect(fact).toEqual({ has_transaction: true, merchant: 'LIDL GB LONDON', amount: '42.00', price: 4.2 });
  });

  it('leaves warehouse and cursor as they were when Plutus fails, and the next run completes', async () => {
    const now = '2026-06-30T12:00:00Z';
    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(0);
    const sums = await checksums();
    const cursor = await readCursor(new FileObjectStore(dataDir));
    const later = '2026-07-03T12:00:00Z';
    expect(
      await cli('run', '--sandbox-now', later, '--sandbox-months', '12', '--sandbox-faults', '{"serverError":{"routes":["transactions"]}}'),
    ).toBe(1);
    const lastLine = err.at(-1) ?? '';
    expect(lastLine).toMatch(/^local-runner: run \S+ failed \(extract failed: TransientError: .*500.*\); manifest: .*manifest\.json$/);
    const manifest = JSON.parse(await readFile(lastLine.replace(/^.*manifest: /, ''), 'utf8'));
    expect(manifest).toMatchObject({ status: 'failed', error: { step: 'extract', name: 'TransientError' } });
    expect(await checksums()).toEqual(sums);
    expect(await readCursor(new FileObjectStore(dataDir))).toEqual(cursor);
    expect(await cli('run', '--sandbox-now', later, '--sandbox-months', '12')).toBe(0);
    const ids = new Set([...(await sandboxData(now)).transactions, ...(await sandboxData(later)).transactions].map((row) => row.id));
    expect(await count('transactions')).toBe(ids.size);
  });

  it('loads everything else and quarantines malformed rows with their reason', async () => {
    const source = join(workDir, 'source');
    const good = { id: 't-1', currency: 'GBP', amount: -1000, date: '2026-06-01T10:00:00+00:00', description: 'TESCO STORES' };
    const bad = { id: 't-2', currency: 'POUNDS', amount: -1000, date: '2026-06-01T11:00:00+00:00', description: 'BAD CURRENCY' };
    const rewards = [
      { id: 'r-1', amount: 0.1, createdAt: '2026-06-02T00:00:00Z', rebate_rate: 0.03, reference_id: 't-1' },
      { id: 'r-2', amount: 0.1, createdAt: '2026-06-02T00:00:00Z', rebate_rate: -0.03, reference_id: 't-1', reason: 'Rejected by admin' },
    ];
    await dumpDataset({ transactions: [good, bad], rewards }, source);
    expect(await cli('run', '--sandbox-data', source, '--data-dir', 'store')).toBe(0);
    dataDir = join(workDir, 'store');
    expect(await count('transactions')).toBe(1);
    expect(await count('rewards')).toBe(1);
    const store = new FileObjectStore(dataDir);
    const [rejects] = await store.list('quarantine/transactions/');
    const text = Buffer.from(await store.get(rejects)).toString();
    expect(text).toContain('t-2');
    expect(text).toContain('currency not a currency code');
    // Every original column is kept, the reward's own `reason` included; why it was quarantined is a column of its own.
    const rejectedReward = parseCsv(Buffer.from(await store.get((await store.list('quarantine/rewards/'))[0])).toString());
    const cell = (name: string) => rejectedReward.columns[rejectedReward.header.indexOf(name)][0];
    expect([cell('id'), cell('reason'), cell('_reject_reason')]).toEqual(['r-2', 'Rejected by admin', 'rebate_rate is negative']);
  });

  it('after a crash between transform and load, refuses to interleave, and completes once unlocked', async () => {
    const now = '2026-06-30T12:00:00Z';
    // A run that dies after transforming: its steps ran, the process ended before load; its lock stays.
    const sandbox = await startSandbox({ now, months: 12 });
    const store = new FileObjectStore(dataDir);
    const database = new DuckDbDatabase(join(dataDir, WAREHOUSE_FILE));
    const context: PipelineContext = {
      store,
      catalog: new DuckDbCatalog(database, (key) => store.locate(key)),
      warehouse: new DuckDbWarehouse(database, (key) => store.locate(key)),
      source: createPlutusClient({ baseUrl: sandbox.url, auth: sandbox.credentials }),
      now: () => new Date(),
      lookbackDays: 7,
    };
    const crashed = newRunId(new Date());
    await transformStep(context, await extractStep(context, { runId: crashed, mode: 'incremental' }));
    await database.close();
    await sandbox.close();

    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(1);
    expect(err.join('\n')).toContain(`Run ${crashed} has been running since`);
    expect(await readCursor(store)).toEqual(EMPTY_CURSOR);

    // Its process cannot be checked (no pid recorded) and the lock is recent: unlock asks for --force.
    expect(await cli('unlock')).toBe(1);
    expect(await cli('unlock', '--force')).toBe(0);
    expect(out).toEqual([expect.stringContaining(`removed the lock of run ${crashed}`)]);
    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(0);
    expect(await count('reward_facts')).toBe((await sandboxData(now)).rewards.length);
    expect(await cli('status')).toBe(0);
    expect(out.join('\n')).toContain('lock: free');
  });

  it('writes a dashboard with a clear empty state before any run', async () => {
    expect(await cli('dashboard')).toBe(0);
    expect(out[0]).toBe(`dashboard: ${dataDir}/dashboard.html`);
    expect(await readFile(join(dataDir, 'dashboard.html'), 'utf8')).toContain('data-empty="true"');
  });

  it('says what is wrong with a bad command line, with exit code 2', async () => {
    expect(await cli('backfill', '--from', '2026-01-01')).toBe(2);
    expect(err[0]).toBe('local-runner: backfill needs --to as a calendar date YYYY-MM-DD, got nothing.');
    expect(await cli('backfill', '--from', '2024-02-30', '--to', '2024-03-01')).toBe(2);
    expect(err[0]).toBe('local-runner: backfill needs --from as a calendar date YYYY-MM-DD, got "2024-02-30".');
    expect(await cli('backfill', '--from', 'foo 1', '--to', '2024-03-01')).toBe(2);
    for (const args of [
      ['--lookback-days', ''],
      ['--lookback-days', '1e9'],
      ['--lookback-days', '-1'],
      ['--lookback-days', '99999'],
      ['--data-dir', ''],
      ['--sandbox-now', '2024-02-30'],
      ['--sandbox-months', '0'],
    ]) {
      expect([args, await cli('run', ...args)]).toEqual([args, 2]);
    }
    expect(err[0]).toBe('local-runner: --sandbox-months must be a whole number from 1 to 1200, got "0".');
    expect(await cli('run', '--lookback-days', 'x', '--json')).toBe(2);
    expect(JSON.parse(out.join('\n'))).toEqual({
      ok: false,
      exitCode: 2,
      error: '--lookback-days must be a whole number from 0 to 3660, got "x".',
    });
    expect(await cli('launch')).toBe(2);
    expect(await cli('--help')).toBe(0);
    expect(out[0]).toContain('local-runner: the card-rewards pipeline on one machine');
  });

  it('backfills a window of dates without moving the cursor back', async () => {
    const now = '2026-06-30T12:00:00Z';
    expect(await cli('run', '--sandbox-now', now, '--sandbox-months', '12')).toBe(0);
    const cursor = await readCursor(new FileObjectStore(dataDir));
    const sums = await checksums();
    expect(
      await cli('backfill', '--from', '2026-01-01', '--to', '2026-01-31', '--sandbox-now', now, '--sandbox-months', '12', '--json'),
    ).toBe(0);
    const outcome = JSON.parse(out.join('\n'));
    const january = (await sandboxData(now)).transactions.filter((row) => row.date.startsWith('2026-01')).length;
    expect(outcome.manifest.steps.extract.counts.transactions).toBe(january);
    const after = await readCursor(new FileObjectStore(dataDir));
    expect([after.transactionsThrough, after.rewardsUpdatedThrough]).toEqual([cursor.transactionsThrough, cursor.rewardsUpdatedThrough]);
    expect(await checksums()).toEqual(sums);
  });

  it('says what it waits for while the source throttles it, instead of going silent', async () => {
    const faults = JSON.stringify({ rateLimit: { times: 1, retryAfterSeconds: 1, routes: ['transactions'] } });
    expect(await cli('run', '--sandbox-months', '1', '--sandbox-faults', faults)).toBe(0);
    expect(err.join('\n')).toMatch(/source: Plutus answered HTTP 429 to POST .*graphql.*, retrying in 1\.0 s \(attempt 1;/);
  });

  it('says what it still waits for while a slow source keeps it quiet', async () => {
    const faults = JSON.stringify({ latencyMs: 1500 });
    expect(await cli('run', '--sandbox-months', '1', '--sandbox-faults', faults, '--heartbeat-seconds', '1')).toBe(0);
    expect(err.join('\n')).toMatch(/^still working, \d+ s since: /m);
  });

  it('names its source on the first line, and an empty PLUTUS_* variable means real Plutus, never the sandbox', async () => {
    expect(await cli('run', '--sandbox-months', '1')).toBe(0);
    expect(err[0]).toBe('source: sandbox (synthetic)');
    expect(out.join('\n')).toContain('source: sandbox (synthetic)');

    expect(await cliWithEnv({ PLUTUS_BASE_URL: 'https://api.plutus.it', PLUTUS_ID_TOKEN: '' }, 'run')).toBe(2);
    expect(err.at(-1)).toMatch(/^local-runner: PLUTUS_ID_TOKEN is set but empty/);
    expect(await cliWithEnv({ PLUTUS_BASE_URL: 'https://api.plutus.it' }, 'run')).toBe(2);
    expect(err.at(-1)).toContain('PLUTUS_EMAIL, PLUTUS_PASSWORD, PLUTUS_TOTP_SECRET are missing or empty');
    expect(await cliWithEnv({ PLUTUS_EMAIL: '' }, 'run')).toBe(2);
  });

  it("refuses a second cardholder in one data dir (another sandbox seed, another export's account) unless --allow-source-change", async () => {
    expect(await cli('run', '--sandbox-months', '1')).toBe(0);
    expect(await cli('run', '--sandbox-months', '1', '--sandbox-seed', '7')).toBe(2);
    expect(err.at(-1)).toMatch(
      /holds rows of the synthetic sandbox, seed 42 \(since .*\); this run would load rows of the synthetic sandbox, seed 7\. .*--allow-source-change/,
    );
    const exported = (account: string | undefined) => ({
      transactions: [
        { id: `t-${account}`, currency: 'GBP', amount: -100, date: '2026-06-01T10:00:00+00:00', ...(account ? { user_id: account } : {}) },
      ],
      rewards: [],
    });
    const [unnamed, first, other] = [join(workDir, 'unnamed'), join(workDir, 'acct-1'), join(workDir, 'acct-2')];
    await dumpDataset(exported(undefined), unnamed);
    await dumpDataset(exported('acct-1'), first);
    await dumpDataset(exported('acct-2'), other);
    expect(await cli('run', '--sandbox-data', first)).toBe(2);
    expect(err.at(-1)).toContain('this run would load rows of an export of account acct-1.');
    // Asked for by name, the data dir changes hands; an export naming no account can be that account's; another
    // account's is refused.
    expect(await cli('run', '--sandbox-data', first, '--allow-source-change')).toBe(0);
    expect(await cli('run', '--sandbox-data', unnamed)).toBe(0);
    expect(await cli('run', '--sandbox-data', first)).toBe(0);
    expect(await cli('run', '--sandbox-data', other)).toBe(2);
    expect(err.at(-1)).toMatch(/holds rows of an export of account acct-1 .*would load rows of an export of account acct-2\./);
  });

  it('refuses to mix real and synthetic rows in one data dir unless --allow-source-change, and prints no secret', async () => {
    expect(await cli('run', '--sandbox-months', '1')).toBe(0);
    const plutus = await startSandbox({ months: 1 });
    try {
      const url = new URL(plutus.url);
      const env = {
        PLUTUS_BASE_URL: `http://${url.host}/?token=SeCrEtToKeN`,
        PLUTUS_EMAIL: plutus.credentials.email,
        PLUTUS_PASSWORD: plutus.credentials.password,
        PLUTUS_TOTP_SECRET: plutus.credentials.totpSecret,
      };
      expect(await cliWithEnv(env, 'run')).toBe(2);
      expect(err.at(-1)).toMatch(
        /This data dir holds rows from sandbox \(synthetic\) .* would load rows from Plutus http:\/\/127\.0\.0\.1:\d+\/?\?\*\*\*\. .*--allow-source-change/,
      );
      // Credentials in the URL are refused before anything else (fetch would refuse them on every request).
      expect(await cliWithEnv({ ...env, PLUTUS_BASE_URL: `http://tok:Pa55word@${url.host}/` }, 'run')).toBe(2);
      expect(err.at(-1)).toContain('PLUTUS_BASE_URL carries a user name or password');
      const everything = () => [...out, ...err].join('\n');
      for (const secret of ['Pa55word', 'SeCrEtToKeN', plutus.credentials.password, plutus.credentials.totpSecret])
        expect(everything()).not.toContain(secret);
      expect(await cliWithEnv({ ...env, PLUTUS_BASE_URL: plutus.url }, 'run', '--allow-source-change', '--json')).toBe(0);
      expect(JSON.parse(out.join('\n'))).toMatchObject({
        ok: true,
        source: `Plutus ${plutus.url}`,
        manifest: { source: `Plutus ${plutus.url}` },
      });
    } finally {
      await plutus.close();
    }
    expect(await cliWithEnv({ RUNNER_S3_BUCKET: 'b', RUNNER_S3_ENDPOINT: 'http://user:S3cret@example.com' }, 'run')).toBe(2);
    expect(err.join('\n')).toContain('RUNNER_S3_ENDPOINT must be https (or loopback), got http://***@example.com.');
    expect(err.join('\n')).not.toContain('S3cret');
  });

  it('one malformed row from Plutus never blocks a run: landed, quarantined with its reason, counted; new fields are reported', async () => {
    const source = join(workDir, 'malformed');
    const good = {
      id: 't-good',
      currency: 'GBP',
      amount: -1000,
      date: '2026-06-01T10:00:00+00:00',
      description: 'TESCO',
      loyalty_tier: 'gold',
    };
    const transactions = [
      good,
      { id: 't-text', currency: 'GBP', amount: '12.5', date: '2026-06-01T11:00:00+00:00' },
      { currency: 'GBP', amount: -5, date: '2026-06-01T12:00:00+00:00' },
      { id: 't-date', currency: 'GBP', amount: -7, date: '31/03/2024' },
    ];
    const rewards = [
      { id: 'r-1', amount: 0.1, createdAt: '2026-06-02T00:00:00Z', rebate_rate: 0.03, reference_id: 't-good' },
      { id: 'r-bad', amount: 'lots', createdAt: '2026-06-02T00:00:00Z' },
    ];
    await dumpDataset({ transactions, rewards } as never, source);
    expect(await cli('run', '--sandbox-data', source)).toBe(0);
    expect(err.join('\n')).toContain('sandbox: serving 1 reward(s) and 3 transaction(s) that break the API document');
    const summary = out.join('\n');
    expect(summary).toMatch(
      /rows that broke the API document: 4, landed as served \(the transform quarantined 4 row\(s\) in all, each with its reason\): .*transactions \/amount: must be integer \(1\)/,
    );
    expect(summary).toContain('fields the API document does not know (the API moved?): transactions.loyalty_tier (1)');
    expect(await count('transactions')).toBe(1);
    expect(await count('rewards')).toBe(1);
    const store = new FileObjectStore(dataDir);
    const rejected = Buffer.from(await store.get((await store.list('quarantine/transactions/'))[0])).toString();
    for (const reason of ['amount not an integer', 'missing id', 'unparseable date']) expect(rejected).toContain(reason);
    expect(Buffer.from(await store.get((await store.list('quarantine/rewards/'))[0])).toString()).toContain('amount not a number');
    // The next run does not fail on the same rows either.
    expect(await cli('run', '--sandbox-data', source)).toBe(0);
  });

  it('an unwritable data dir is a usage error naming it; an unreachable bucket fails with its real cause and no phantom manifest', async () => {
    const file = join(workDir, 'a-file');
    await writeFile(file, 'not a folder');
    expect(await cli('run', '--data-dir', join(file, 'data'))).toBe(2);
    expect(err.at(-1)).toBe(
      `local-runner: The data dir ${join(file, 'data')} cannot be written (ENOTDIR): choose a folder you can write with --data-dir.`,
    );

    // Nothing listens on this loopback port: every S3 call fails, the manifest included.
    expect(
      await cliWithEnv(
        { RUNNER_S3_BUCKET: 'b', RUNNER_S3_ENDPOINT: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' },
        'run',
        '--sandbox-months',
        '1',
      ),
    ).toBe(1);
    const last = err.at(-1) ?? '';
    expect(last).toMatch(/^local-runner: the object store cannot be used \(.*ECONNREFUSED.*\); nothing was run\.$/);
    expect(last).not.toContain('{runId}');
    expect(last).not.toContain('s3://');
  });

  it('works in a data dir whose name has glob characters, and refuses one DuckDB cannot open', async () => {
    expect(await cli('run', '--sandbox-months', '2', '--data-dir', 'odd [dir] {a} *')).toBe(0);
    dataDir = join(workDir, 'odd [dir] {a} *');
    expect(await cli('run', '--sandbox-months', '2', '--data-dir', 'odd [dir] {a} *')).toBe(0);
    expect(await cli('run', '--data-dir', 'what?')).toBe(2);
    expect(err.at(-1)).toMatch(/--data-dir .*"\?"/);
    expect(await cli('run', '--data-dir', 'a,b')).toBe(2);
    const [lake] = await inWarehouse((database) => database.query<{ n: number }>('SELECT count(*)::INT AS n FROM curated_transactions'));
    expect(lake.n).toBe(await count('transactions'));
  });

  it('status and dashboard read the warehouse without blocking, and say "busy" while another process holds it', async () => {
    expect(await cli('run', '--sandbox-months', '1')).toBe(0);
    // The holder keeps its instance and a connection referenced: a collected instance would free the file.
    const holderScript = `require('@duckdb/node-api').DuckDBInstance.create(${JSON.stringify(join(dataDir, WAREHOUSE_FILE))}).then(async (db) => { globalThis.held = [db, await db.connect()]; console.log('open'); setInterval(() => globalThis.held, 1000); })`;
    const holder = spawn(process.execPath, ['-e', holderScript], { cwd: __dirname, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      expect(await cli('status')).toBe(0);
      expect([out, err].join('\n')).toContain('warehouse rows: busy: a run is loading');
      expect(await cli('dashboard')).toBe(1);
      expect(err.at(-1)).toBe('local-runner: busy: a run is loading the warehouse; write the dashboard again when it has finished.');
      // A run meanwhile fails as a run (exit 1): one line with the step, the cause, and a manifest that exists.
      expect(await cli('run', '--sandbox-months', '1')).toBe(1);
      const line = err.at(-1) ?? '';
      expect(line).toMatch(
        // Extract already reads the warehouse (its count for the source check): the run stops there, nothing pulled.
        /^local-runner: run \S+ failed \(extract failed: WarehouseBusyError: The warehouse .*warehouse\.duckdb is open in another process.*\); manifest: (.*manifest\.json)$/,
      );
      expect(existsSync(line.replace(/^.*manifest: /, ''))).toBe(true);
      expect(await cli('status')).toBe(0);
      expect(out.join('\n')).toContain('lock: free');
    } finally {
      holder.kill();
      await new Promise((resolve) => holder.once('close', resolve));
    }
    expect(await cli('status')).toBe(0);
    expect(out.join('\n')).toMatch(/warehouse rows: .*transactions \d+/);
  });

  it('a source clock in the future never freezes the cursor: later rows are counted and the next run still pulls changes', async () => {
    expect(await cli('run', '--sandbox-now', '2030-06-01T00:00:00Z', '--sandbox-months', '2')).toBe(0);
    expect(out.join('\n')).toMatch(/dated after this run started: \d+ transactions, [1-9]\d* rewards/);
    const cursor = await readCursor(new FileObjectStore(dataDir));
    for (const instant of [cursor.transactionsThrough, cursor.rewardsUpdatedThrough])
      expect(instant === null || Date.parse(instant) <= Date.now()).toBe(true);
    // The next run, on a sane clock, still pulls the rewards that changed (before the fix it pulled none, forever).
    expect(await cli('run', '--sandbox-months', '2', '--json')).toBe(0);
    expect(JSON.parse(out.join('\n')).manifest.steps.extract.counts.rewards).toBeGreaterThan(0);
  });

  describe('the incremental model: every ordering ends with the facts of one run over all the data', () => {
    const now = '2026-06-30T12:00:00Z';
    const sandbox = ['--sandbox-now', now, '--sandbox-months', '12'];
    /** The warehouse after one plain run over everything, in a data dir of its own. */
    let oneRun: string[];
    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'local-runner-reference-'));
      dataDir = join(workDir, '.data');
      expect(await cli('run', ...sandbox)).toBe(0);
      oneRun = await checksums();
      await rm(workDir, { recursive: true, force: true });
    });

    it('backfill first, then run: the run pulls all history (no window skipped), facts join both ways', async () => {
      expect(await cli('backfill', '--from', '2026-03-01', '--to', '2026-04-15', ...sandbox, '--json')).toBe(0);
      const backfill = JSON.parse(out.join('\n'));
      expect(backfill.chunks.map((chunk: { runId: string }) => chunk.runId.slice(-7))).toEqual(['2026-03', '2026-04']);
      expect((await readCursor(new FileObjectStore(dataDir))).transactionsThrough).toBeNull();
      expect(await cli('run', ...sandbox)).toBe(0);
      const data = await sandboxData(now);
      expect(await count('transactions')).toBe(data.transactions.length);
      expect(await count('rewards')).toBe(data.rewards.length);
      expect(await checksums()).toEqual(oneRun);
    });

    it('run first, then backfill: nothing changes', async () => {
      expect(await cli('run', ...sandbox)).toBe(0);
      expect(await cli('backfill', '--from', '2025-08-01', '--to', '2026-06-30', ...sandbox)).toBe(0);
      expect(out.join('\n')).toContain('backfill: 11 month(s), each a run of its own');
      expect(await checksums()).toEqual(oneRun);
    });

    it('a backfill month lands only the rewards created in that month: none lands twice, none is missed', async () => {
      expect(await cli('backfill', '--from', '2025-08-01', '--to', '2026-06-30', ...sandbox, '--json')).toBe(0);
      const chunks = JSON.parse(out.join('\n')).chunks as { steps: { extract: { counts: Record<string, number> } } }[];
      expect(chunks).toHaveLength(11);
      const landed = chunks.reduce((sum, chunk) => sum + chunk.steps.extract.counts['rewards'], 0);
      const inWindow = (await sandboxData(now)).rewards.filter(
        (reward) => reward.createdAt >= '2025-08-01T00:00:00Z' && Date.parse(reward.createdAt) < Date.parse('2026-07-01T00:00:00Z'),
      );
      expect(inWindow.length).toBeGreaterThan(100);
      expect(landed).toBe(inWindow.length);
      expect(await count('rewards')).toBe(inWindow.length);
    });

    it('a backfill reaching past today runs the months that have begun and says how many it skipped', async () => {
      expect(await cli('backfill', '--from', '2026-05-01', '--to', '2099-12-31', ...sandbox)).toBe(0);
      const today = new Date();
      const afterToday = (2099 - today.getUTCFullYear()) * 12 + (12 - (today.getUTCMonth() + 1));
      const next = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
      const summary = out.join('\n');
      expect(summary).toContain(
        `skipped: ${afterToday} month(s) after this run's start (${next}..2099-12): nothing can be dated there yet`,
      );
      expect(summary).toMatch(/backfill: \d+ month\(s\), each a run of its own/);
      expect(await cli('backfill', '--from', '2099-01-01', '--to', '2099-12-31', ...sandbox)).toBe(1);
      expect(err.join('\n')).toContain("lies after this run's start");
    });

    it("a backfill from 1900 skips, and reports, the months before the source's first transaction; a window wholly before it is refused", async () => {
      const dates = (await sandboxData(now)).transactions.map((row) => String(row.date)).sort();
      const firstMonth = dates[0].slice(0, 7);
      const monthsFrom1900 = (Number(firstMonth.slice(0, 4)) - 1900) * 12 + Number(firstMonth.slice(5, 7)) - 1;
      expect(await cli('backfill', '--from', '1900-01-01', '--to', '2026-06-30', ...sandbox, '--json')).toBe(0);
      const outcome = JSON.parse(out.join('\n')) as { skippedBeforeSource: unknown; chunks: { runId: string }[] };
      expect(outcome.skippedBeforeSource).toEqual({ months: monthsFrom1900, from: '1900-01', to: expect.any(String), firstMonth });
      expect(outcome.chunks[0].runId.endsWith(`-${firstMonth}`)).toBe(true);
      expect(outcome.chunks).toHaveLength((2026 - Number(firstMonth.slice(0, 4))) * 12 + 6 - Number(firstMonth.slice(5, 7)) + 1);
      expect(await checksums()).toEqual(oneRun);
      expect(await cli('backfill', '--from', '1900-01-01', '--to', '1999-12-31', ...sandbox)).toBe(1);
      expect(err.join('\n')).toContain(
        'backfill: the source serves no transaction dated from 1900-01-01 to the end of 1999-12, nor before',
      );
    });

    it('a reward loaded before its transaction is joined when the transaction arrives', async () => {
      const reward = {
        id: 'r-early',
        amount: 0.3,
        available: false,
        reason: null,
        createdAt: '2026-06-30T08:00:00Z',
        updatedAt: '2026-06-30T08:00:00Z',
        rebate_rate: 0.03,
        fiat_amount_rewarded: null,
        currency: 'GBP',
        reference_type: 'card_transaction',
        reference_id: 't-late',
        type: 'REBATE',
      };
      const transaction = {
        id: 't-late',
        currency: 'GBP',
        amount: -4200,
        date: '2026-06-29T10:00:00+00:00',
        type: 'PURCHASE',
        is_debit: true,
        description: 'LIDL GB LONDON',
      };
      const first = join(workDir, 'first');
      const second = join(workDir, 'second');
      await dumpDataset({ transactions: [], rewards: [reward] }, first);
      await dumpDataset({ transactions: [transaction], rewards: [reward] }, second);
      expect(await cli('run', '--sandbox-data', first)).toBe(0);
      const fact = () =>
        inWarehouse((database) =>
          database.query(
            "SELECT has_transaction, merchant, reward_amount::VARCHAR AS reward FROM reward_facts WHERE reward_id = 'r-early'",
          ),
        );
      expect(await fact()).toEqual([{ has_transaction: false, merchant: null, reward: null }]);
      expect(await cli('run', '--sandbox-data', second)).toBe(0);
      expect(await fact()).toEqual([{ has_transaction: true, merchant: 'LIDL GB LONDON', reward: '1.260000' }]);
    });

    it('a lost warehouse is refused by name, then rebuilt from the lake to the same state', async () => {
      expect(await cli('run', ...sandbox)).toBe(0);
      expect(await cli('run', '--sandbox-now', '2026-07-10T12:00:00Z', '--sandbox-months', '12')).toBe(0);
      const before = await checksums();
      await rm(join(dataDir, WAREHOUSE_FILE));
      expect(await cli('run', '--sandbox-now', '2026-07-10T12:00:00Z', '--sandbox-months', '12')).toBe(1);
      expect(err.at(-1)).toMatch(/WarehouseLostError: The warehouse is empty, .*local-runner rebuild/);
      expect(await cli('rebuild')).toBe(0);
      expect(out.join('\n')).toMatch(/rebuilt from 2 loaded run\(s\)/);
      expect(await checksums()).toEqual(before);
      const lake = await inWarehouse((database) =>
        database.query<{ n: number }>('SELECT (SELECT count(*) FROM curated_transactions)::INT AS n'),
      );
      expect(lake).toEqual([{ n: await count('transactions') }]);
      expect(await cli('run', '--sandbox-now', '2026-07-10T12:00:00Z', '--sandbox-months', '12')).toBe(0);
    });
  });
});
