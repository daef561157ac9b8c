import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformRun } from '@org/rewards-transform';
import { DuckDbCatalog, DuckDbDatabase, DuckDbWarehouse } from './duckdb-warehouse';
import { FileObjectStore } from './file-object-store';

const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');

describe('DuckDbWarehouse and DuckDbCatalog', () => {
  let root: string;
  let store: FileObjectStore;
  let database: DuckDbDatabase;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'duckdb-warehouse-'));
    store = new FileObjectStore(root);
    database = new DuckDbDatabase(join(root, 'warehouse.duckdb'));
    const output = transformRun({ transactionsCsv: await fixture('transactions.csv'), rewardsCsv: await fixture('rewards.csv') });
    for (const dataset of ['transactions', 'rewards', 'reward_facts'] as const) {
      await store.put(`curated/${dataset}/ingest_date=2026-01-01/run=r1/part-00000.parquet`, output.parquet[dataset]);
    }
  });
  afterEach(async () => {
    await database.close();
    await rm(root, { recursive: true, force: true });
  });

  it('merges idempotently: loading the same file twice leaves identical tables', async () => {
    const warehouse = new DuckDbWarehouse(database, (key) => store.locate(key));
    const key = 'curated/reward_facts/ingest_date=2026-01-01/run=r1/part-00000.parquet';
    await expect(warehouse.mergeDataset('reward_facts', [key])).resolves.toEqual({ dataset: 'reward_facts', rowsStaged: 7, rowsInTable: 7 });
    const first = await warehouse.tableChecksum('reward_facts');
    await expect(warehouse.mergeDataset('reward_facts', [key])).resolves.toMatchObject({ rowsInTable: 7 });
    expect(await warehouse.tableChecksum('reward_facts')).toBe(first);
    const [row] = await database.query<{ reward_amount: string; merchant: string }>("SELECT reward_amount::VARCHAR AS reward_amount, merchant FROM reward_facts WHERE reward_id = 'r-perk'");
    expect(row).toEqual({ reward_amount: '10.000000', merchant: 'NETFLIX.COM' });
  });

  it('rolls back a load that fails half-way, leaving the table as it was', async () => {
    const warehouse = new DuckDbWarehouse(database, (key) => store.locate(key));
    await warehouse.mergeDataset('rewards', ['curated/rewards/ingest_date=2026-01-01/run=r1/part-00000.parquet']);
    const before = await warehouse.tableChecksum('rewards');
    await expect(warehouse.mergeDataset('rewards', ['curated/rewards/missing.parquet'])).rejects.toThrow();
    expect(await warehouse.tableChecksum('rewards')).toBe(before);
  });

  it('exposes every curated partition through a view per dataset', async () => {
    await new DuckDbCatalog(database, (key) => store.locate(key)).registerPartitions([
      { dataset: 'transactions', ingestDate: '2026-01-01', runId: 'r1', key: 'curated/transactions/ingest_date=2026-01-01/run=r1/part-00000.parquet' },
    ]);
    expect(await database.query('SELECT count(*)::INT AS n, any_value(ingest_date)::VARCHAR AS day FROM curated_transactions')).toEqual([{ n: 6, day: '2026-01-01' }]);
  });
});
