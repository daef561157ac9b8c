import { quoteIdentifier, quoteLiteral, type SqlDialect } from '@org/sql-dialect';
import { CURATED_SCHEMAS, DATASET_KEYS, type CuratedDataset } from '@org/rewards-transform';
import { PipelineError } from './pipeline-errors';
import type { RewardMonthSummary } from './ports';

// The warehouse's tables as the curated schemas define them, in any dialect. What a load does with them (staging,
// the merge, the facts, the views) is each warehouse adapter's own plan; these are the parts every plan shares.

/** `"schema"."name"`, or `"name"` without a schema. */
export function qualifiedName(name: string, schema?: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name);
}

export interface CreateTableOptions {
  schema?: string;
  /** Another name than the dataset's (a table built beside the one it replaces). */
  name?: string;
  /** Column definitions a warehouse keeps beside the curated ones, after them. */
  extraColumns?: readonly string[];
  /** Declare the key as PRIMARY KEY (a planner hint where it is not enforced). */
  primaryKey?: boolean;
  /** A clause after the column list (a table layout). */
  layout?: string;
}

export function createTableSql(dataset: CuratedDataset, dialect: SqlDialect, options: CreateTableOptions = {}): string {
  const columns = CURATED_SCHEMAS[dataset].map(
    (spec) => `  ${quoteIdentifier(spec.name)} ${dialect.columnType(spec)}${spec.nullable ? '' : ' NOT NULL'}`,
  );
  const key = options.primaryKey ? [`  PRIMARY KEY (${quoteIdentifier(DATASET_KEYS[dataset])})`] : [];
  const definitions = [...columns, ...(options.extraColumns ?? []).map((definition) => `  ${definition}`), ...key];
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(options.name ?? dataset, options.schema)} (\n${definitions.join(',\n')}\n)${options.layout ? ` ${options.layout}` : ''}`;
}

/**
 * The statements that bring an existing table up to the curated schema: `CREATE TABLE IF NOT EXISTS` never adds
 * a column, and COPY from Parquet needs the table's columns, in order. Columns are only ever appended to the
 * curated schemas, so a table is a prefix of its schema; one that is not (a column renamed, dropped or moved)
 * is refused with what to do, never loaded into the wrong columns. An added column is nullable: the rows
 * loaded before it existed have no value for it. `presentColumns` are the table's curated columns, in order
 * (a warehouse leaves out the columns of its own it keeps beside them).
 */
export function addMissingColumnsSql(
  dataset: CuratedDataset,
  presentColumns: readonly string[],
  dialect: SqlDialect,
  schema?: string,
): string[] {
  const wanted = CURATED_SCHEMAS[dataset];
  if (!presentColumns.length) return [];
  const mismatch = presentColumns.findIndex((name, i) => wanted[i]?.name !== name);
  if (mismatch >= 0) {
    throw new PipelineError(
      `The warehouse table ${dataset} has the columns (${presentColumns.join(', ')}), which are not the start of the curated schema (${wanted.map((spec) => spec.name).join(', ')}): ` +
        `column ${mismatch + 1} is ${presentColumns[mismatch]}, expected ${wanted[mismatch]?.name ?? 'none'}. Rebuild the warehouse from the lake (mode "rebuild") after dropping the table.`,
    );
  }
  return wanted
    .slice(presentColumns.length)
    .map((spec) => `ALTER TABLE ${qualifiedName(dataset, schema)} ADD COLUMN ${quoteIdentifier(spec.name)} ${dialect.columnType(spec)}`);
}

/** The columns of the pipeline's tables in `schemaName`, in order: feed its rows to `addMissingColumnsSql`. */
export function presentColumnsSql(schemaName: string): string {
  return (
    `SELECT table_name AS "table_name", column_name AS "column_name" FROM information_schema.columns WHERE table_schema = ${quoteLiteral(schemaName)} ` +
    `AND table_name IN (${Object.keys(CURATED_SCHEMAS).map(quoteLiteral).join(', ')}) ORDER BY table_name, ordinal_position`
  );
}

/** Counts after a load: rows per table, and how many facts found no transaction. */
export function tableCountsSql(schema?: string): string {
  const count = (name: CuratedDataset) => `(SELECT count(*) FROM ${qualifiedName(name, schema)})`;
  return (
    `SELECT ${count('transactions')} AS "transactions", ${count('rewards')} AS "rewards", ${count('reward_facts')} AS "reward_facts", ` +
    `(SELECT count(*) FROM ${qualifiedName('reward_facts', schema)} WHERE NOT "has_transaction") AS "facts_without_transaction"`
  );
}

const instant = (iso: string) => `CAST(${quoteLiteral(iso)} AS TIMESTAMPTZ)`;

/** `SELECT "transaction_id"` of the transactions dated in [from, before). */
export function transactionIdsBetweenSql(from: string, before: string, schema?: string): string {
  return (
    `SELECT "transaction_id" FROM ${qualifiedName('transactions', schema)} ` +
    `WHERE "transaction_date" >= ${instant(from)} AND "transaction_date" < ${instant(before)} ORDER BY 1`
  );
}

/** `SELECT "reward_id"` of the rewards whose `updated_at` is in [from, before). */
export function rewardIdsUpdatedBetweenSql(from: string, before: string, schema?: string): string {
  return (
    `SELECT "reward_id" FROM ${qualifiedName('rewards', schema)} ` +
    `WHERE "updated_at" >= ${instant(from)} AND "updated_at" < ${instant(before)} ORDER BY 1`
  );
}

/** `SELECT "user_id"`: the accounts whose transactions the warehouse holds. */
export function accountsSql(schema?: string): string {
  return `SELECT DISTINCT "user_id" FROM ${qualifiedName('transactions', schema)} WHERE "user_id" IS NOT NULL ORDER BY 1`;
}

/** A month summary with another's figures taken away (months left empty dropped). */
export function summaryWithout(all: RewardMonthSummary, excluded: RewardMonthSummary): RewardMonthSummary {
  const out: RewardMonthSummary = {};
  for (const [month, figures] of Object.entries(all)) {
    const minus = excluded[month] ?? { rows: 0, seconds: 0 };
    const rows = figures.rows - minus.rows;
    if (rows > 0) out[month] = { rows, seconds: figures.seconds - minus.seconds };
  }
  return out;
}
