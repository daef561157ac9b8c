import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { transformRun } from '@org/rewards-transform';
import { createTableSql, mergeStatements, quoteIdentifier, quoteLiteral } from './warehouse-sql';

const rewardsCsv = (rows: string[]) => `id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\n${rows.join('\n')}\n`;

// The MERGE text the Redshift adapter sends, executed for real on DuckDB (COPY replaced by read_parquet).
describe('warehouse SQL on DuckDB', () => {
  let dir: string;
  let db: DuckDBConnection;
  const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();
  const load = async (name: string, csv: string) => {
    const output = transformRun({ transactionsCsv: 'id,currency,amount,date\n', rewardsCsv: csv });
    const path = join(dir, `${name}.parquet`);
    await writeFile(path, output.parquet.rewards);
    await db.run(createTableSql('rewards', 'duckdb'));
    await db.run('BEGIN TRANSACTION');
    await db.run(`CREATE TEMP TABLE "staging" AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);
    for (const statement of mergeStatements('rewards', { staging: 'staging' })) await db.run(statement);
    await db.run('DROP TABLE "staging"');
    await db.run('COMMIT');
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warehouse-sql-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is idempotent: the same file twice leaves the same table', async () => {
    const csv = rewardsCsv(['r1,1.5,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,0.3,GBP,t1', 'r2,2,true,,2026-01-02T00:00:00Z,2026-02-15T00:00:00Z,0,10,GBP,']);
    await load('a', csv);
    const first = await rows('SELECT * FROM rewards ORDER BY reward_id');
    await load('b', csv);
    expect(await rows('SELECT * FROM rewards ORDER BY reward_id')).toEqual(first);
    expect(first).toHaveLength(2);
  });

  it('keeps the latest version of a row, whichever order the files come in', async () => {
    await load('newer', rewardsCsv(['r1,1.5,true,,2026-01-01T00:00:00Z,2026-02-15T00:00:00Z,0.03,0.3,GBP,t1']));
    await load('older', rewardsCsv(['r1,1.5,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,0.3,GBP,t1']));
    expect(await rows('SELECT reward_id, is_available FROM rewards')).toEqual([{ reward_id: 'r1', is_available: true }]);
    await load('rejected', rewardsCsv(['r1,1.5,false,Rejected by admin,2026-01-01T00:00:00Z,2026-03-01T00:00:00Z,0.03,0.3,GBP,t1']));
    expect(await rows('SELECT reason, is_available FROM rewards')).toEqual([{ reason: 'Rejected by admin', is_available: false }]);
  });

  it('de-duplicates within one staging load, latest updated_at winning', async () => {
    await load('dupes', rewardsCsv(['r1,1,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,0.3,GBP,t1', 'r1,1,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,0.3,GBP,t1']));
    expect(await rows('SELECT count(*)::INT AS n, bool_and(is_available) AS available FROM rewards')).toEqual([{ n: 1, available: true }]);
  });

  it('quotes identifiers and literals, refusing anything that could inject', () => {
    expect(quoteIdentifier('reward_facts')).toBe('"reward_facts"');
    expect(() => quoteIdentifier('x"; DROP TABLE rewards; --')).toThrow('Not a plain SQL identifier');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });

  it('writes Redshift DDL with Redshift types', () => {
    const ddl = createTableSql('reward_facts', 'redshift', { schema: 'rewards', extra: 'DISTKEY(reward_id) SORTKEY(created_at)' });
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "rewards"."reward_facts"');
    expect(ddl).toContain('"plu_price" DOUBLE PRECISION');
    expect(ddl).toContain('"created_at" TIMESTAMPTZ NOT NULL');
    expect(ddl).toMatch(/DISTKEY\(reward_id\) SORTKEY\(created_at\)$/);
  });
});
