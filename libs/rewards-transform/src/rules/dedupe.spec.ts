import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_DIALECT, quoteLiteral, REDSHIFT_DIALECT, redshiftSqlOnDuckDb, type SqlDialect } from '@org/sql-dialect';
import { tableToParquet } from '../engine/parquet-output';
import { tableRows, type Table } from '../engine/table';
import { cleanRewards, cleanTransactions } from './clean-datasets';
import { CURATED_SCHEMAS, DATASET_KEYS, type LakeDataset } from './curated-schemas';
import { canonicalRowText, dedupeDataset, dedupeLatest, latestRowsSql } from './dedupe';
import { duplicatedRaw } from './duplicated-raw.test-support';

const clean = (dataset: LakeDataset, csv: string): Table => (dataset === 'transactions' ? cleanTransactions(csv) : cleanRewards(csv)).table;

describe('de-duplication: one total order on row values, the same in TypeScript and in both warehouses’ SQL', () => {
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dedupe-differential-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
    // A session in another zone must change nothing: instants are compared as instants.
    await db.run("SET TimeZone = 'America/New_York'");
  });
  afterAll(async () => {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(
    (['transactions', 'rewards'] as const).flatMap((dataset) =>
      [DUCKDB_DIALECT, REDSHIFT_DIALECT].map((dialect): [LakeDataset, string, SqlDialect] => [dataset, dialect.name, dialect]),
    ),
  )('%s, %s SQL: the row kept for every key of 20,000 rows with ties and copies', async (dataset, _, dialect) => {
    const all = clean(dataset, duplicatedRaw(20_000, 20261202)[dataset]);
    const kept = dedupeDataset(all, dataset);
    expect(kept.duplicatesRemoved).toBeGreaterThan(15_000);
    for (const [name, table] of [
      ['all', all],
      ['kept', kept.table],
    ] as const) {
      const path = join(dir, `${dataset}-${name}.parquet`);
      await writeFile(path, tableToParquet(table, CURATED_SCHEMAS[dataset]));
      await db.run(`CREATE OR REPLACE TABLE "${name}" AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);
    }
    const sql = latestRowsSql(dataset, '"all"', dialect);
    await db.run(`CREATE OR REPLACE TABLE "sql_kept" AS ${dialect.name === 'redshift' ? redshiftSqlOnDuckDb(sql) : sql}`);
    const key = DATASET_KEYS[dataset];
    const checks = CURATED_SCHEMAS[dataset].map(
      (spec) => `count(*) FILTER (WHERE t."${spec.name}" IS DISTINCT FROM s."${spec.name}")::INTEGER`,
    );
    const [row] = (
      await db.runAndReadAll(
        `SELECT count(*)::INTEGER AS joined, (${checks.join(' + ')})::INTEGER AS differences FROM "kept" AS t FULL JOIN "sql_kept" AS s USING ("${key}")`,
      )
    ).getRowObjectsJson();
    expect(row).toEqual({ joined: kept.table.length, differences: 0 });
  });

  it('breaks a tie of versions by the md5 of the canonical row, whatever order the rows come in', () => {
    const csv = (lines: string[]) => `id,amount,available,createdAt,updatedAt,currency\n${lines.join('\n')}\n`;
    const a = 'r1,1,false,2025-01-01T00:00:00Z,2025-01-02T00:00:00Z,GBP';
    const b = 'r1,2,false,2025-01-01T00:00:00Z,2025-01-02T00:00:00Z,GBP';
    const newer = 'r1,0.5,false,2025-01-01T00:00:00Z,2025-01-03T00:00:00Z,EUR';
    const keptOf = (lines: string[]) => tableRows(dedupeDataset(clean('rewards', csv(lines)), 'rewards').table);
    expect(keptOf([a, b])).toEqual(keptOf([b, a]));
    expect(keptOf([a, newer, b])).toEqual(keptOf([newer, b, a]));
    expect(keptOf([a, newer, b])[0]).toMatchObject({ currency: 'EUR' });
    const table = clean('rewards', csv([a]));
    expect(canonicalRowText(table, 0, CURATED_SCHEMAS.rewards).split('\u001f')).toEqual([
      'Vr1',
      'V100000000',
      'Vfalse',
      'N',
      `V${Date.UTC(2025, 0, 1) * 1000}`,
      `V${Date.UTC(2025, 0, 2) * 1000}`,
      'N',
      'N',
      'VGBP',
      'N',
      'N',
      'N',
    ]);
  });

  it('keeps the same table when nothing repeats, and survivors in their original order', () => {
    const table: Table = { length: 3, columns: { id: ['a', 'b', 'a'], v: Float64Array.from([1, 1, 2]) } };
    const schema = [
      { name: 'id', kind: 'string', nullable: false, description: '' },
      { name: 'v', kind: 'integer', nullable: false, description: '' },
    ] as const;
    const result = dedupeLatest(table, 'id', 'v', schema);
    expect(tableRows(result.table)).toEqual([
      { id: 'b', v: 1 },
      { id: 'a', v: 2 },
    ]);
    expect(result.index().rowOf('a')).toBe(1);
    const unique: Table = { length: 2, columns: { id: ['a', 'b'], v: Float64Array.from([1, 1]) } };
    expect(dedupeLatest(unique, 'id', 'v', schema).table).toBe(unique);
  });

  it('in place, keeps the same rows in the same order in the table’s own columns, and its index finds them', () => {
    const schema = [
      { name: 'id', kind: 'string', nullable: false, description: '' },
      { name: 'v', kind: 'integer', nullable: false, description: '' },
    ] as const;
    const make = (): Table => ({ length: 5, columns: { id: ['a', 'b', 'a', 'c', 'b'], v: Float64Array.from([1, 3, 2, 1, 2]) } });
    const copied = dedupeLatest(make(), 'id', 'v', schema);
    const table = make();
    const [ids, versions] = [table.columns['id'], table.columns['v'] as Float64Array];
    const moved = dedupeLatest(table, 'id', 'v', schema, { inPlace: true });
    expect(tableRows(moved.table)).toEqual(tableRows(copied.table));
    expect(tableRows(moved.table)).toEqual([
      { id: 'b', v: 3 },
      { id: 'a', v: 2 },
      { id: 'c', v: 1 },
    ]);
    // No new column: the ids' own array, the versions' own buffer.
    expect(moved.table.columns['id']).toBe(ids);
    expect((moved.table.columns['v'] as Float64Array).buffer).toBe(versions.buffer);
    expect(['a', 'b', 'c'].map((id) => moved.index().rowOf(id))).toEqual([1, 0, 2]);
  });
});
