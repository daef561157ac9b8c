import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { transformRun } from '@org/rewards-transform';
import { DUCKDB_DIALECT } from '@org/sql-dialect';
import { viewStatements } from '../src/dashboard-views';

const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');

/** The curated fixtures of @org/rewards-transform loaded into DuckDB, with the views on top. */
export async function fixtureWarehouse(dir: string): Promise<DuckDBConnection> {
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
  for (const statement of viewStatements(DUCKDB_DIALECT)) await db.run(statement);
  return db;
}
