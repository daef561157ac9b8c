import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_DIALECT, quoteLiteral, REDSHIFT_DIALECT, redshiftSqlOnDuckDb, type SqlDialect } from '@org/sql-dialect';
import { tableToParquet } from '../engine/parquet-output';
import { takeRows, type Table } from '../engine/table';
import { cleanRewards, cleanTransactions } from './clean-datasets';
import { CURATED_SCHEMAS, type LakeDataset } from './curated-schemas';
import { canonicalRowText } from './dedupe';
import { addDigests, digestSql, ledgerDigest, ledgerDigestSql, rowDigestColumns, rowsDigest } from './digest';
import { duplicatedRaw } from './duplicated-raw.test-support';

const clean = (dataset: LakeDataset, csv: string): Table => (dataset === 'transactions' ? cleanTransactions(csv) : cleanRewards(csv)).table;

describe('the digest: one definition in TypeScript, DuckDB and Redshift SQL', () => {
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'digest-differential-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
    // Instants are digested as epoch microseconds: a session in another zone changes nothing.
    await db.run("SET TimeZone = 'Asia/Kolkata'");
  });
  afterAll(async () => {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  const sqlDigest = async (sql: string, dialect: SqlDialect) => {
    const [row] = (await db.runAndReadAll(dialect.name === 'redshift' ? redshiftSqlOnDuckDb(sql) : sql)).getRowObjectsJson();
    return { rows: Number(row['rows']), digest: String(row['digest']) };
  };

  it.each(
    (['transactions', 'rewards'] as const).flatMap((dataset) =>
      [DUCKDB_DIALECT, REDSHIFT_DIALECT].map((dialect): [LakeDataset, string, SqlDialect] => [dataset, dialect.name, dialect]),
    ),
  )('%s, %s SQL: the whole-row digest and the ledger digest of 5,000 rows with copies, ties and nulls', async (dataset, _, dialect) => {
    const table = clean(dataset, duplicatedRaw(5_000, 7)[dataset]);
    const path = join(dir, `${dataset}.parquet`);
    await writeFile(path, tableToParquet(table, CURATED_SCHEMAS[dataset]));
    await db.run(`CREATE OR REPLACE TABLE "rows" AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);

    const whole = await sqlDigest(digestSql(rowDigestColumns(dataset), '"rows"', dialect), dialect);
    expect(whole).toEqual({ rows: table.length, digest: rowsDigest(table, rowDigestColumns(dataset)) });

    const ledger = await sqlDigest(ledgerDigestSql(dataset, '"rows"', dialect), dialect);
    expect(ledger.digest).toBe(ledgerDigest(table, dataset));
    expect(ledger.rows).toBeLessThan(table.length / 4);
  });

  it('is the sum modulo 2^60 of 60-bit md5 prefixes, computed here by hand', () => {
    const table = clean('transactions', 'id,amount,date,currency\nt1,150,2025-01-01T00:00:00Z,GBP\nt2,-99,2025-02-01T00:00:00.5Z,EUR\n');
    const prefix = (row: number) =>
      BigInt(
        `0x${createHash('md5')
          .update(canonicalRowText(table, row, CURATED_SCHEMAS.transactions))
          .digest('hex')
          .slice(0, 15)}`,
      );
    expect(rowsDigest(table, CURATED_SCHEMAS.transactions)).toBe(((prefix(0) + prefix(1)) % 2n ** 60n).toString());
    expect(rowsDigest(takeRows(table, []), CURATED_SCHEMAS.transactions)).toBe('0');
  });

  it('adds across disjoint parts, and changes when a row is edited, lost or added', () => {
    const table = clean('rewards', duplicatedRaw(400, 11).rewards);
    const columns = rowDigestColumns('rewards');
    const all = rowsDigest(table, columns);
    const half = Math.floor(table.length / 2);
    const first = takeRows(
      table,
      Array.from({ length: half }, (_, i) => i),
    );
    const second = takeRows(
      table,
      Array.from({ length: table.length - half }, (_, i) => half + i),
    );
    expect(addDigests(rowsDigest(first, columns), rowsDigest(second, columns))).toBe(all);
    expect(rowsDigest(first, columns)).not.toBe(all);
    const edited: Table = { ...table, columns: { ...table.columns, reason: [...(table.columns['reason'] as (string | null)[])] } };
    (edited.columns['reason'] as (string | null)[])[3] = 'edited by hand';
    expect(rowsDigest(edited, columns)).not.toBe(all);
  });
});
