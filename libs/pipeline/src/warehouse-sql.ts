import { CURATED_SCHEMAS, DATASET_KEYS, REWARD_FACTS_SCHEMA, rewardFactsSelectSql, type ColumnSpec, type CuratedDataset, type LakeDataset, type SqlDialect } from '@org/rewards-transform';

export type { SqlDialect };

/** A double-quoted SQL identifier; refuses anything but plain names, so no identifier can inject SQL. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A single-quoted SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function columnType(spec: ColumnSpec, dialect: SqlDialect): string {
  switch (spec.kind) {
    case 'string':
      return dialect === 'redshift' ? 'VARCHAR(4096)' : 'VARCHAR';
    case 'integer':
      return 'BIGINT';
    case 'decimal':
      return `DECIMAL(${spec.precision ?? 18},${spec.scale ?? 0})`;
    case 'double':
      return dialect === 'redshift' ? 'DOUBLE PRECISION' : 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMPTZ';
  }
}

/** The column that decides which copy of a key is newer, when the dataset has one. */
export const VERSION_COLUMNS: Partial<Record<CuratedDataset, string>> = {
  rewards: 'updated_at',
  reward_facts: 'updated_at',
};

export function createTableSql(dataset: CuratedDataset, dialect: SqlDialect, options: { schema?: string; extra?: string } = {}): string {
  const target = qualified(dataset, options.schema);
  const columns = CURATED_SCHEMAS[dataset].map(
    (spec) => `  ${quoteIdentifier(spec.name)} ${columnType(spec, dialect)}${spec.nullable ? '' : ' NOT NULL'}`,
  );
  // Redshift's PRIMARY KEY is a planner hint. DuckDB's is an in-memory index that cannot spill: at millions of
  // keys it outgrew a bounded memory limit (measured: out of memory at 3M rows with 500 MB), and the MERGE
  // statements keep one row per key anyway.
  const key = dialect === 'redshift' ? `,\n  PRIMARY KEY (${quoteIdentifier(DATASET_KEYS[dataset])})` : '';
  return `CREATE TABLE IF NOT EXISTS ${target} (\n${columns.join(',\n')}${key}\n)${options.extra ? ` ${options.extra}` : ''}`;
}

/**
 * The statements that merge a loaded staging table into the target, the same text for DuckDB and Redshift:
 * keep one row per key in staging (the latest version), drop staged rows older than what the target holds,
 * then MERGE (update matched, insert new). Run them in one transaction after loading `staging`.
 */
export function mergeStatements(dataset: CuratedDataset, options: { staging: string; schema?: string }): string[] {
  const target = qualified(dataset, options.schema);
  const staging = quoteIdentifier(options.staging);
  const deduped = quoteIdentifier(`${options.staging}_latest`);
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const version = VERSION_COLUMNS[dataset];
  const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name));
  const order = version ? `${quoteIdentifier(version)} DESC` : `${key}`;
  const statements = [
    `CREATE TEMP TABLE ${deduped} AS SELECT ${columns.join(', ')} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${order}) AS "row_rank" FROM ${staging}) AS ranked WHERE "row_rank" = 1`,
  ];
  if (version) {
    const v = quoteIdentifier(version);
    statements.push(`DELETE FROM ${deduped} USING ${target} WHERE ${deduped}.${key} = ${target}.${key} AND ${deduped}.${v} < ${target}.${v}`);
  }
  statements.push(
    `MERGE INTO ${target} USING ${deduped} ON ${target}.${key} = ${deduped}.${key}\n` +
      `WHEN MATCHED THEN UPDATE SET ${columns.filter((c) => c !== key).map((c) => `${c} = ${deduped}.${c}`).join(', ')}\n` +
      `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `${deduped}.${c}`).join(', ')})`,
    `DROP TABLE ${deduped}`,
  );
  return statements;
}

function qualified(dataset: CuratedDataset, schema?: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(dataset)}` : quoteIdentifier(dataset);
}

/** Staging tables of one load, by lake dataset: filled (COPY or read_parquet) before `runLoadStatements`. */
export type StagingTables = Record<LakeDataset, string>;

/**
 * The heart of a load, after both staging tables are filled, the same text for DuckDB and Redshift; run it in
 * the same transaction as the staging, so a load is all or nothing:
 * 1. the affected rewards: those staged now, and those already loaded whose reference_id is a staged
 *    transaction (a transaction arriving after its reward);
 * 2. MERGE of both datasets (latest version wins, as `mergeStatements`);
 * 3. the facts of exactly the affected rewards deleted and derived again from the merged tables, with the
 *    definitions of `@org/rewards-transform` (`rewardFactsSelectSql`).
 * Late joins then work both ways, and a run's cost follows its own rows, not the history.
 */
export function runLoadStatements(options: { dialect: SqlDialect; staging: StagingTables; schema?: string }): string[] {
  const { dialect, staging, schema } = options;
  const table = (name: CuratedDataset) => qualified(name, schema);
  const affected = quoteIdentifier(`${staging.rewards}_affected`);
  const factColumns = REWARD_FACTS_SCHEMA.map((spec) => quoteIdentifier(spec.name)).join(', ');
  return [
    `CREATE TEMP TABLE ${affected} AS SELECT "reward_id" FROM ${quoteIdentifier(staging.rewards)}\n` +
      `UNION SELECT r."reward_id" FROM ${table('rewards')} AS r JOIN ${quoteIdentifier(staging.transactions)} AS s ON r."reference_id" = s."transaction_id"`,
    ...mergeStatements('transactions', { staging: staging.transactions, schema }),
    ...mergeStatements('rewards', { staging: staging.rewards, schema }),
    `DELETE FROM ${table('reward_facts')} WHERE "reward_id" IN (SELECT "reward_id" FROM ${affected})`,
    `INSERT INTO ${table('reward_facts')} (${factColumns})\n` +
      rewardFactsSelectSql({ dialect, rewards: table('rewards'), transactions: table('transactions'), onlyRewardIds: affected }),
    `DROP TABLE ${affected}`,
  ];
}

/** Counts after a load: rows per table, and how many facts of the load's rewards found no transaction. */
export function tableCountsSql(schema?: string): string {
  const count = (name: CuratedDataset) => `(SELECT count(*) FROM ${qualified(name, schema)})`;
  return `SELECT ${count('transactions')} AS "transactions", ${count('rewards')} AS "rewards", ${count('reward_facts')} AS "reward_facts", ` +
    `(SELECT count(*) FROM ${qualified('reward_facts', schema)} WHERE NOT "has_transaction") AS "facts_without_transaction"`;
}
