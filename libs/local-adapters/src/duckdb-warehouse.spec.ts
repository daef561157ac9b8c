import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedMonthFigures, expectedWarehouseParquet, LOAD_SEQUENCE, tableDifferencesSql } from '@org/pipeline/testing';
import { CURATED_SCHEMAS, transformRun } from '@org/rewards-transform';
import { DuckDbCatalog, DuckDbDatabase, DuckDbWarehouse, loadMemoryLimitMb } from './duckdb-warehouse';
import { FileObjectStore } from './file-object-store';

const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');
const NO_TRANSACTIONS = 'id,currency,amount,date\n';
const NO_REWARDS = 'id,amount,createdAt\n';

describe('DuckDbWarehouse and DuckDbCatalog', () => {
  let root: string;
  let store: FileObjectStore;
  let database: DuckDbDatabase;
  let warehouse: DuckDbWarehouse;

  /** Curated Parquet of one run, as transform writes it; answers the run's object keys. */
  const curatedRun = async (runId: string, transactionsCsv: string, rewardsCsv: string) => {
    const output = transformRun({ transactionsCsv, rewardsCsv });
    const keys = {
      transactions: `curated/transactions/ingest_date=2026-01-01/run=${runId}/part-00000.parquet`,
      rewards: `curated/rewards/ingest_date=2026-01-01/run=${runId}/part-00000.parquet`,
    };
    await store.put(keys.transactions, output.parquet.transactions);
    await store.put(keys.rewards, output.parquet.rewards);
    return { transactions: [keys.transactions], rewards: [keys.rewards] };
  };
  const checksums = async () =>
    Promise.all((['transactions', 'rewards', 'reward_facts'] as const).map((table) => warehouse.tableChecksum(table)));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'duckdb-warehouse-'));
    store = new FileObjectStore(root);
    database = new DuckDbDatabase(join(root, 'warehouse.duckdb'));
    warehouse = new DuckDbWarehouse(database, (key) => store.locate(key));
  });
  afterEach(async () => {
    await database.close();
    await rm(root, { recursive: true, force: true });
  });

  it('loads a run: both tables merged, every reward a fact, idempotent when loaded again', async () => {
    const run = await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv'));
    await expect(warehouse.loadRun(run)).resolves.toEqual({
      staged: { transactions: 6, rewards: 7 },
      inTable: { transactions: 6, rewards: 7, reward_facts: 7 },
      factsWithoutTransaction: 2,
    });
    const first = await checksums();
    await warehouse.loadRun(run);
    expect(await checksums()).toEqual(first);
    const [row] = await database.query<{ reward_amount: string; merchant: string }>(
      "SELECT reward_amount::VARCHAR AS reward_amount, merchant FROM reward_facts WHERE reward_id = 'r-perk'",
    );
    expect(row).toEqual({ reward_amount: '10.000000', merchant: 'NETFLIX.COM' });
  });

  it('joins late both ways: rewards before their transactions, or after, give the facts of one load of everything', async () => {
    const transactions = await fixture('transactions.csv');
    const rewards = await fixture('rewards.csv');
    await warehouse.loadRun(await curatedRun('all', transactions, rewards));
    const together = await checksums();

    for (const order of [
      ['rewards', 'transactions'],
      ['transactions', 'rewards'],
    ] as const) {
      await warehouse.reset();
      for (const first of order) {
        await warehouse.loadRun(
          await curatedRun(
            `only-${first}`,
            first === 'transactions' ? transactions : NO_TRANSACTIONS,
            first === 'rewards' ? rewards : NO_REWARDS,
          ),
        );
      }
      expect([order.join(' then '), await checksums()]).toEqual([order.join(' then '), together]);
    }
    const [facts] = await database.query<{ orphans: number }>(
      'SELECT count(*) FILTER (WHERE NOT has_transaction)::INTEGER AS orphans FROM reward_facts',
    );
    expect(facts.orphans).toBe(2);
  });

  it('refreshes only the affected facts: a load of one transaction leaves unrelated facts untouched', async () => {
    await warehouse.loadRun(await curatedRun('r1', NO_TRANSACTIONS, await fixture('rewards.csv')));
    await database.run("UPDATE _pipeline.reward_facts SET merchant = 'untouched' WHERE reward_id <> 'r-rebate'");
    await warehouse.loadRun(
      await curatedRun(
        'r2',
        'id,currency,amount,date,description\nt-purchase,GBP,-1250,2024-03-31T11:00:00Z,TESCO STORES 3291 LONDON GB\n',
        NO_REWARDS,
      ),
    );
    const rows = await database.query<{ reward_id: string; merchant: string | null }>(
      "SELECT reward_id, merchant FROM reward_facts WHERE merchant IS DISTINCT FROM 'untouched'",
    );
    expect(rows).toEqual([{ reward_id: 'r-rebate', merchant: 'TESCO STORES 3291 LONDON GB' }]);
  });

  it('adds the columns the curated schema gained since a table was made, so an old warehouse keeps loading', async () => {
    const run = await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv'));
    // A warehouse made before rewards had reward_type (the last column) and before the probe hashes, with rows in it.
    await database.run(
      'CREATE TABLE rewards AS SELECT * EXCLUDE (reward_type) FROM (SELECT * FROM read_parquet(' +
        `'${store.locate(run.rewards[0])}', hive_partitioning = false` +
        ')) LIMIT 3',
    );
    await warehouse.loadRun(run);
    const columns = async (schema: string) =>
      (
        await database.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = 'rewards' ORDER BY ordinal_position`,
        )
      ).map((column) => column.column_name);
    // Moved into the internal schema: reward_type added after the curated columns it had, the probe hashes after it;
    // what users query (the view in its place) has the curated columns only.
    expect((await columns('_pipeline')).slice(-3)).toEqual(['reward_type', 'reward_id_hash32', 'reference_id_hash32']);
    expect(await columns('main')).toEqual(CURATED_SCHEMAS.rewards.map((spec) => spec.name));
    expect(
      (
        await database.query<{ n: number }>(
          'SELECT count(*)::INT AS n FROM _pipeline.rewards WHERE reward_id_hash32 IS DISTINCT FROM (md5_number_lower(reward_id) >> 32)::UINTEGER',
        )
      )[0].n,
    ).toBe(0);
    // Made anew with this version's constraints: a reward without an id is still refused.
    await expect(database.run('INSERT INTO _pipeline.rewards (reward_id) VALUES (NULL)')).rejects.toThrow(/NOT NULL/);
    expect(
      (await database.query<{ n: number }>('SELECT count(*)::INT AS n FROM rewards WHERE reward_type IS NOT NULL'))[0].n,
    ).toBeGreaterThan(0);
  });

  it('moves the tables of an earlier version (64-bit probe hashes, in the main schema) into the internal schema, keeping every row', async () => {
    await warehouse.loadRun(await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv')));
    const before = await checksums();
    // The tables as the previous version made them: the same rows, with `<key>_hash` UBIGINT columns.
    for (const [table, keys] of Object.entries({
      transactions: ['transaction_id'],
      rewards: ['reward_id', 'reference_id'],
      reward_facts: ['reward_id'],
    })) {
      await database.run(
        `CREATE TABLE old_${table} AS SELECT *, ${keys.map((key) => `md5_number_lower(${key}) AS ${key}_hash`).join(', ')} FROM ${table}`,
      );
      await database.run(`DROP VIEW ${table}`);
      await database.run(`DROP TABLE _pipeline.${table}`);
      await database.run(`ALTER TABLE old_${table} RENAME TO ${table}`);
    }
    await warehouse.loadRun(await curatedRun('r2', await fixture('transactions.csv'), await fixture('rewards.csv')));
    expect(await checksums()).toEqual(before);
    const hashColumns = await database.query<{ name: string; type: string }>(
      "SELECT table_schema || '.' || table_name || '.' || column_name AS name, data_type AS type FROM information_schema.columns WHERE column_name LIKE '%hash%' ORDER BY 1",
    );
    expect(hashColumns).toEqual([
      { name: '_pipeline.reward_facts.reward_id_hash32', type: 'UINTEGER' },
      { name: '_pipeline.rewards.reference_id_hash32', type: 'UINTEGER' },
      { name: '_pipeline.rewards.reward_id_hash32', type: 'UINTEGER' },
      { name: '_pipeline.transactions.transaction_id_hash32', type: 'UINTEGER' },
    ]);
  });

  it('refuses a table whose columns are not the start of the curated schema, naming rebuild', async () => {
    const run = await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv'));
    await database.run('CREATE TABLE transactions (transaction_id VARCHAR, amount VARCHAR)');
    await expect(warehouse.loadRun(run)).rejects.toThrow(
      /transactions has the columns \(transaction_id, amount\).*column 2 is amount, expected model.*rebuild/,
    );
  });

  it('rolls back a load that fails half-way: every table as it was', async () => {
    await warehouse.loadRun(await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv')));
    const before = await checksums();
    const bad = await curatedRun('r2', NO_TRANSACTIONS, await fixture('rewards.csv'));
    await expect(warehouse.loadRun({ transactions: bad.transactions, rewards: ['curated/rewards/missing.parquet'] })).rejects.toThrow();
    expect(await checksums()).toEqual(before);
  });

  it('after every load of the conformance sequence, holds what the reference model of @org/pipeline says, cell for cell', async () => {
    const tables = ['transactions', 'rewards', 'reward_facts'] as const;
    for (const [index, load] of LOAD_SEQUENCE.entries()) {
      await warehouse.loadRun(await curatedRun(`s${index}`, load.transactionsCsv, load.rewardsCsv));
      const expected = expectedWarehouseParquet(LOAD_SEQUENCE.slice(0, index + 1));
      for (const table of tables) {
        await store.put(`expected/${table}.parquet`, expected[table]);
        const parquet = `read_parquet('${store.locate(`expected/${table}.parquet`)}')`;
        const [agreement] = await database.query<Record<string, number>>(tableDifferencesSql(table, `"${table}"`, parquet));
        const rows = Number(agreement['expected_rows']);
        expect([index, table, agreement]).toEqual([index, table, { actual_rows: rows, expected_rows: rows, joined: rows, differences: 0 }]);
      }
      // The ledger's figures per month, kept by the loads, equal the reference model's and the tables' own.
      const figures = expectedMonthFigures(LOAD_SEQUENCE.slice(0, index + 1));
      expect([index, await warehouse.monthFigures('ledger')]).toEqual([index, figures]);
      expect([index, await warehouse.monthFigures('tables')]).toEqual([index, figures]);
    }
    // No internal column reaches the tables users query.
    const columns = await database.query<{ name: string }>(
      "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'main' AND column_name LIKE '%hash%'",
    );
    expect(columns).toEqual([]);
  });

  it("keeps the ledger's figures per month, answers the checks' counts from them, and computes them again from a table whose count they miss", async () => {
    for (const [index, load] of LOAD_SEQUENCE.entries())
      await warehouse.loadRun(await curatedRun(`s${index}`, load.transactionsCsv, load.rewardsCsv));
    const figures = expectedMonthFigures(LOAD_SEQUENCE);
    const rows = (months: Record<string, { rows: number }>) => Object.fromEntries(Object.entries(months).map(([m, f]) => [m, f.rows]));
    // Whole months from the kept figures, and the part of a month before an instant inside it from the table.
    await database.run(
      `UPDATE _pipeline.load_ledger_months SET "seconds" = "seconds" + 1 WHERE "dataset" = 'rewards' AND "month" = '2026-01'`,
    );
    const kept = (await warehouse.monthFigures('ledger')).rewards['2026-01'];
    expect(await warehouse.rewardMonthSummary('2026-02-01T00:00:00.000Z')).toEqual({
      ...figures.rewards,
      '2026-01': kept,
      '2026-02': undefined,
    });
    expect(Object.keys(await warehouse.rewardMonthSummary('2026-01-03T00:00:00.000Z'))).toEqual(['2026-01']);
    expect((await warehouse.rewardMonthSummary('2026-01-03T00:00:00.000Z'))['2026-01'].rows).toBe(1);
    expect(await warehouse.transactionMonthCounts('2026-01-31T23:59:59.999Z')).toEqual(rows(figures.transactions));
    expect(await warehouse.transactionsDatedBefore('2026-01-02T12:00:00.000Z')).toBe(2);
    // Kept figures whose total is not the table's count are not used, and the next load computes them again.
    await database.run(`DELETE FROM _pipeline.load_ledger_months WHERE "dataset" = 'rewards' AND "month" = '2026-02'`);
    expect(await warehouse.rewardMonthSummary('2100-01-01T00:00:00.000Z')).toEqual(figures.rewards);
    await warehouse.loadRun(await curatedRun('again', LOAD_SEQUENCE[4].transactionsCsv, LOAD_SEQUENCE[4].rewardsCsv));
    expect(await warehouse.monthFigures('ledger')).toEqual(figures);
    // A warehouse of an earlier version, which kept none: its next load computes them from the tables.
    await database.run('DROP TABLE _pipeline.load_ledger_months');
    expect(await warehouse.transactionsDatedBefore('2100-01-01T00:00:00.000Z')).toBe(3);
    await warehouse.loadRun(await curatedRun('upgraded', LOAD_SEQUENCE[4].transactionsCsv, LOAD_SEQUENCE[4].rewardsCsv));
    expect(await warehouse.monthFigures('ledger')).toEqual(figures);
  });

  it('counts rows (0 for tables not there yet) and resets to nothing', async () => {
    expect(await warehouse.tableCounts()).toEqual({ transactions: 0, rewards: 0, reward_facts: 0 });
    await warehouse.loadRun(await curatedRun('r1', await fixture('transactions.csv'), await fixture('rewards.csv')));
    expect(await warehouse.tableCounts()).toEqual({ transactions: 6, rewards: 7, reward_facts: 7 });
    await warehouse.reset();
    expect(await warehouse.tableCounts()).toEqual({ transactions: 0, rewards: 0, reward_facts: 0 });
  });

  it('lake views: only registered (loaded) runs, one row per key, paths relative so a copied data dir works', async () => {
    const transactions = await fixture('transactions.csv');
    const first = await curatedRun('20260101T000000000Z-aaaaaa', transactions, await fixture('rewards.csv'));
    const again = await curatedRun('20260102T000000000Z-bbbbbb', transactions, await fixture('rewards.csv'));
    await curatedRun('20260103T000000000Z-failed', transactions, NO_REWARDS);
    const catalog = new DuckDbCatalog(database, (key) => store.locate(key));
    const partitions = (runId: string, keys: typeof first) => [
      { dataset: 'transactions' as const, ingestDate: '2026-01-01', runId, keys: keys.transactions },
      { dataset: 'rewards' as const, ingestDate: '2026-01-01', runId, keys: keys.rewards },
    ];
    await catalog.registerPartitions(partitions('20260101T000000000Z-aaaaaa', first));
    await catalog.registerPartitions(partitions('20260102T000000000Z-bbbbbb', again));
    const counts = async (db: DuckDbDatabase) =>
      db.query(
        'SELECT (SELECT count(*) FROM curated_transactions)::INT AS transactions, (SELECT count(*) FROM curated_rewards)::INT AS rewards, (SELECT max(run) FROM curated_transactions) AS run',
      );
    expect(await counts(database)).toEqual([{ transactions: 6, rewards: 7, run: '20260102T000000000Z-bbbbbb' }]);
    const [{ path }] = await database.query<{ path: string }>('SELECT path FROM lake_partitions LIMIT 1');
    expect(path.startsWith('curated/')).toBe(true);

    await database.close();
    const copy = await mkdtemp(join(tmpdir(), 'duckdb-copied-'));
    try {
      await cp(root, copy, { recursive: true });
      await rm(root, { recursive: true, force: true });
      const moved = new DuckDbDatabase(join(copy, 'warehouse.duckdb'));
      expect(await counts(moved)).toEqual([{ transactions: 6, rewards: 7, run: '20260102T000000000Z-bbbbbb' }]);
      await moved.close();
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

describe('loadMemoryLimitMb', () => {
  it('gives a small load a small buffer pool and a large one up to the ceiling', () => {
    expect(loadMemoryLimitMb(50_000, 512)).toBe(128);
    expect(loadMemoryLimitMb(200 * 2 ** 20, 512)).toBe(178);
    expect(loadMemoryLimitMb(2000 * 2 ** 20, 512)).toBe(512);
    expect(loadMemoryLimitMb(2000 * 2 ** 20, 256)).toBe(256);
  });
});
