import { REDSHIFT_DIALECT, DUCKDB_DIALECT } from '@org/sql-dialect';
import { CURATED_SCHEMAS } from '@org/rewards-transform';
import { tableRows } from '@org/rewards-transform/internal';
import { addMissingColumnsSql, createTableSql, tableCountsSql } from './warehouse-schema';
import { expectedWarehouse, LOAD_SEQUENCE } from './testing/warehouse-conformance';

describe('the warehouse schema, in any dialect', () => {
  it('writes Redshift DDL with Redshift types, the key and the layout', () => {
    const ddl = createTableSql('reward_facts', REDSHIFT_DIALECT, {
      schema: 'rewards',
      layout: 'DISTKEY(reward_id) SORTKEY(created_at)',
      primaryKey: true,
    });
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "rewards"."reward_facts"');
    expect(ddl).toContain('"plu_price" DOUBLE PRECISION');
    expect(ddl).toContain('"created_at" TIMESTAMPTZ NOT NULL');
    expect(ddl).toContain('PRIMARY KEY ("reward_id")');
    expect(ddl).toMatch(/DISTKEY\(reward_id\) SORTKEY\(created_at\)$/);
    const duckdb = createTableSql('rewards', DUCKDB_DIALECT, { extraColumns: ['"x" UINTEGER'] });
    expect(duckdb).toMatch(/"reward_type" VARCHAR,\n {2}"x" UINTEGER\n\)$/);
    expect(duckdb).not.toContain('PRIMARY KEY');
  });

  it('adds the columns the curated schema gained, and refuses a table that is not a prefix of it', () => {
    // A table made before rewards had reward_type, its last column.
    const older = CURATED_SCHEMAS.rewards.slice(0, -1).map((spec) => spec.name);
    expect(addMissingColumnsSql('rewards', older, REDSHIFT_DIALECT, 'rewards')).toEqual([
      'ALTER TABLE "rewards"."rewards" ADD COLUMN "reward_type" VARCHAR(4096)',
    ]);
    expect(addMissingColumnsSql('rewards', [], DUCKDB_DIALECT)).toEqual([]);
    expect(() => addMissingColumnsSql('rewards', ['reward_id', 'is_available'], DUCKDB_DIALECT)).toThrow(
      'column 2 is is_available, expected plu_amount',
    );
    expect(tableCountsSql('rewards')).toContain('(SELECT count(*) FROM "rewards"."reward_facts" WHERE NOT "has_transaction")');
  });
});

// The reference model every warehouse's plan is held to (each adapter runs LOAD_SEQUENCE against it), checked
// here against outcomes worked out by hand.
describe('expectedWarehouse: the incremental rule', () => {
  const after = (count: number) => {
    const tables = expectedWarehouse(LOAD_SEQUENCE.slice(0, count));
    const byKey = (rows: Record<string, unknown>[]) => rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return Object.fromEntries(Object.entries(tables).map(([name, table]) => [name, byKey(tableRows(table))])) as Record<
      string,
      Record<string, unknown>[]
    >;
  };
  const row = (rows: Record<string, unknown>[], key: string, id: string) => rows.find((candidate) => candidate[key] === id);

  it('keeps the newer copy staged in one load, and breaks a tie of versions by the row, not by its place', () => {
    const first = after(1);
    expect(row(first['rewards'], 'reward_id', 'r1')).toMatchObject({ reference_id: 't1' });
    expect(first['rewards']).toHaveLength(4);
    expect(first['reward_facts'].every((fact) => fact['has_transaction'] === false)).toBe(true);
  });

  it('joins late, replaces a corrected transaction, keeps a newer reward over an older copy, and lets a later load win a tie', () => {
    const third = after(3);
    expect(row(third['transactions'], 'transaction_id', 't2')).toMatchObject({ description: 'Shop B corrected', transaction_amount: 2500 });
    expect(row(third['rewards'], 'reward_id', 'r2')).toMatchObject({ plu_amount: 200_000_000, is_available: false });
    expect(row(third['rewards'], 'reward_id', 'r5')).toMatchObject({ plu_amount: 300_000_000, currency: 'GBP' });
    expect(row(third['reward_facts'], 'reward_id', 'r1')).toMatchObject({ has_transaction: true, merchant: 'Shop A', is_available: true });
  });

  it('changes nothing when the same load comes again', () => {
    expect(after(5)).toEqual(after(4));
    expect(row(after(5)['reward_facts'], 'reward_id', 'r4')).toMatchObject({ is_rejected: true, has_transaction: true });
  });
});
