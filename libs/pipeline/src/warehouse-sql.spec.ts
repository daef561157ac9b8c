import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { transformRun } from '@org/rewards-transform';
import {
  createTableSql,
  mergeStatements,
  probeHashColumn,
  PROBED_COLUMNS,
  quoteIdentifier,
  quoteLiteral,
  runLoadStatements,
  type SqlDialect,
} from './warehouse-sql';
import { CURATED_SCHEMAS, type CuratedDataset } from '@org/rewards-transform';

const rewardsCsv = (rows: string[]) =>
  `id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\n${rows.join('\n')}\n`;

// The merge text the Redshift adapter sends, executed for real on DuckDB (COPY replaced by read_parquet).
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
    const merge = mergeStatements('rewards', { staging: 'staging' });
    for (const statement of [...merge.statements, merge.dropLatest]) await db.run(statement);
    await db.run('DROP TABLE "staging"');
    await db.run('COMMIT');
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warehouse-sql-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is idempotent: the same file twice leaves the same table', async () => {
    const csv = rewardsCsv([
      'r1,1.5,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,0.3,GBP,t1',
      'r2,2,true,,2026-01-02T00:00:00Z,2026-02-15T00:00:00Z,0,10,GBP,',
    ]);
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
    await load(
      'dupes',
      rewardsCsv([
        'r1,1,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,0.3,GBP,t1',
        'r1,1,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,0.3,GBP,t1',
      ]),
    );
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

// The load differs by warehouse in one place (DuckDB re-finds rows by rowid); both texts, run on DuckDB over the
// same awkward sequence of loads, must leave identical tables after every load.
describe('runLoadStatements: the DuckDB and the Redshift text agree', () => {
  const tx = (rows: string[]) => `id,currency,amount,date,description\n${rows.join('\n')}\n`;
  const rw = (rows: string[]) =>
    `id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\n${rows.join('\n')}\n`;
  // Redshift-only spellings made DuckDB's, as the Redshift adapter's own test does.
  const onDuckDb = (sql: string) =>
    sql
      .replace(/VARCHAR\(4096\)/g, 'VARCHAR')
      .replace(/DOUBLE PRECISION/g, 'DOUBLE')
      .replace(`TO_CHAR(CONVERT_TIMEZONE('UTC', r."created_at"), 'YYYY-MM')`, `strftime(timezone('UTC', r."created_at"), '%Y-%m')`);
  const loads: [string, string][] = [
    // rewards before their transactions, one of them staged twice (the newer copy wins, also on a first load)
    [
      tx([]),
      rw([
        'r1,1.5,false,,2026-01-01T00:00:00Z,2025-12-31T00:00:00Z,0.03,,GBP,t9',
        'r1,1.5,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,,GBP,t1',
        'r2,2,false,,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,0.03,,GBP,t2',
        'r3,0,true,,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,0,10,GBP,t3',
      ]),
    ],
    // the transactions arrive: the facts join late
    [tx(['t1,GBP,-1000,2026-01-01T00:00:00Z,Shop A', 't2,GBP,-2000,2026-01-02T00:00:00Z,Shop B']), rw([])],
    // a newer reward and an older copy of another; a transaction corrected
    [
      tx(['t2,GBP,-2500,2026-01-02T00:00:00Z,Shop B corrected']),
      rw([
        'r1,1.5,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,,GBP,t1',
        'r2,9,true,,2026-01-02T00:00:00Z,2025-12-01T00:00:00Z,0.03,,GBP,t2',
      ]),
    ],
    // both at once, duplicates inside the staging, a rejection, and the same load twice
    [
      tx(['t3,EUR,-300,2026-01-03T00:00:00Z,Shop C', 't3,EUR,-300,2026-01-03T00:00:00Z,Shop C']),
      rw([
        'r4,1,false,Rejected by admin,2026-01-04T00:00:00Z,2026-01-04T00:00:00Z,0.03,,EUR,t3',
        'r1,1.5,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,,GBP,t1',
      ]),
    ],
    [
      tx(['t3,EUR,-300,2026-01-03T00:00:00Z,Shop C']),
      rw(['r4,1,false,Rejected by admin,2026-01-04T00:00:00Z,2026-01-04T00:00:00Z,0.03,,EUR,t3']),
    ],
  ];
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'load-dialects-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('after every load of a sequence with late joins both ways, older copies, corrections and repeats', async () => {
    // Three warehouses: DuckDB's text, Redshift's, and DuckDB's with its first load taking the empty-warehouse road.
    const variants = ['duckdb', 'redshift', 'duckdb-empty-first'] as const;
    const databases = Object.fromEntries(
      await Promise.all(variants.map(async (variant) => [variant, await (await DuckDBInstance.create(':memory:')).connect()] as const)),
    ) as Record<(typeof variants)[number], DuckDBConnection>;
    const tables = Object.keys(CURATED_SCHEMAS) as CuratedDataset[];
    for (const [variant, db] of Object.entries(databases)) {
      for (const dataset of tables) await db.run(onDuckDb(createTableSql(dataset, variant === 'redshift' ? 'redshift' : 'duckdb')));
    }
    // The curated columns (DuckDB also keeps probe hashes, which must be right too: checked below).
    const contents = async (db: DuckDBConnection) =>
      Object.fromEntries(
        await Promise.all(
          tables.map(async (dataset) => {
            const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');
            return [
              dataset,
              (await db.runAndReadAll(`SELECT ${columns} FROM ${quoteIdentifier(dataset)} ORDER BY 1`)).getRowObjectsJson(),
            ] as const;
          }),
        ),
      );
    for (const [index, [transactionsCsv, rewardsCsv]] of loads.entries()) {
      const output = transformRun({ transactionsCsv, rewardsCsv });
      for (const dataset of ['transactions', 'rewards'] as const)
        await writeFile(join(dir, `${dataset}-${index}.parquet`), output.parquet[dataset]);
      for (const [variant, db] of Object.entries(databases) as [(typeof variants)[number], DuckDBConnection][]) {
        const dialect: SqlDialect = variant === 'redshift' ? 'redshift' : 'duckdb';
        const into = variant === 'duckdb-empty-first' && index === 0 ? 'empty' : 'loaded';
        await db.run('BEGIN TRANSACTION');
        for (const dataset of ['transactions', 'rewards'] as const) {
          await db.run(
            `CREATE TEMP TABLE "staging_${dataset}" AS SELECT * FROM read_parquet(${quoteLiteral(join(dir, `${dataset}-${index}.parquet`))})`,
          );
        }
        for (const sql of runLoadStatements({
          dialect,
          into,
          staging: { transactions: 'staging_transactions', rewards: 'staging_rewards' },
        }))
          await db.run(onDuckDb(sql));
        await db.run('DROP TABLE "staging_transactions"');
        await db.run('DROP TABLE "staging_rewards"');
        await db.run('COMMIT');
      }
      const [duckdb, redshift, emptyFirst] = [
        await contents(databases.duckdb),
        await contents(databases.redshift),
        await contents(databases['duckdb-empty-first']),
      ];
      expect(duckdb).toEqual(redshift);
      expect(emptyFirst).toEqual(duckdb);
      expect(duckdb['reward_facts']).toHaveLength(duckdb['rewards'].length);
      if (index === 0) {
        // r1 was staged twice: the newer copy (citing t1) is the one kept, by both roads.
        for (const variant of [duckdb, emptyFirst])
          expect(variant['rewards'].find((row) => row['reward_id'] === 'r1')).toMatchObject({ reference_id: 't1' });
      }
      for (const variant of ['duckdb', 'duckdb-empty-first'] as const) {
        for (const [dataset, columns] of Object.entries(PROBED_COLUMNS)) {
          for (const column of columns) {
            const wrong = (
              await databases[variant].runAndReadAll(
                `SELECT count(*)::INT AS n FROM "${dataset}" WHERE "${probeHashColumn(column)}" IS DISTINCT FROM (md5_number_lower("${column}") >> 32)::UINTEGER`,
              )
            ).getRowObjectsJson();
            expect({ variant, dataset, column, wrong }).toEqual({ variant, dataset, column, wrong: [{ n: 0 }] });
          }
        }
      }
    }
    const facts = (await contents(databases.duckdb))['reward_facts'] as Record<string, unknown>[];
    const byId = Object.fromEntries(facts.map((fact) => [fact['reward_id'], fact]));
    // r1 joined late and later became available; r2 kept its newer copy and saw its transaction's correction.
    expect(byId['r1']).toMatchObject({ has_transaction: true, is_available: true, merchant: 'Shop A' });
    expect(byId['r2']).toMatchObject({ has_transaction: true, is_available: false, merchant: 'Shop B corrected' });
    expect(byId['r3']).toMatchObject({ has_transaction: true, merchant: 'Shop C' });
    expect(byId['r4']).toMatchObject({ is_rejected: true });
  });
});
