import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { transformRun } from '@org/rewards-transform';
import { DUCKDB_DIALECT } from '@org/sql-dialect';
import { viewStatements } from '../src/dashboard-views';
import { dataHealthTableStatements } from '../src/data-health-sql';

const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');

/** The curated fixtures of @org/rewards-transform loaded into DuckDB, with the views on top. */
export async function fixtureWarehouse(dir: string, timeZone = 'UTC'): Promise<DuckDBConnection> {
  const output = transformRun({
    transactionsCsv: await fixture('transactions.csv'),
    rewardsCsv: await fixture('rewards.csv'),
    withFacts: true,
  });
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  for (const dataset of ['transactions', 'rewards', 'reward_facts'] as const) {
    await writeFile(join(dir, `${dataset}.parquet`), output.parquet[dataset] as Uint8Array);
    await db.run(`CREATE TABLE "${dataset}" AS SELECT * FROM read_parquet('${join(dir, `${dataset}.parquet`)}')`);
  }
  // The load ledger as the loads keep it (the data-health views read it): one load of everything.
  await db.run(
    'CREATE TABLE load_ledger (seq BIGINT, run_id VARCHAR, loaded_at VARCHAR, transactions_loaded BIGINT, rewards_loaded BIGINT, ' +
      'transactions_in_table BIGINT, rewards_in_table BIGINT, reward_facts_in_table BIGINT)',
  );
  await db.run(
    "INSERT INTO load_ledger SELECT 1, 'fixture-run', '2026-11-30T06:00:00.000Z', (SELECT count(*) FROM transactions), (SELECT count(*) FROM rewards), " +
      '(SELECT count(*) FROM transactions), (SELECT count(*) FROM rewards), (SELECT count(*) FROM reward_facts)',
  );
  for (const statement of dataHealthTableStatements(DUCKDB_DIALECT, (name) => `"${name}"`)) await db.run(statement);
  for (const statement of viewStatements(DUCKDB_DIALECT, { timeZone })) await db.run(statement);
  return db;
}
