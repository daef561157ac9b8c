import { CURATED_SCHEMAS, DATASET_KEYS, type ColumnSpec, type CuratedDataset } from '@org/rewards-transform';

export type SqlDialect = 'duckdb' | 'redshift';

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
  return `CREATE TABLE IF NOT EXISTS ${target} (\n${columns.join(',\n')},\n  PRIMARY KEY (${quoteIdentifier(DATASET_KEYS[dataset])})\n)${options.extra ? ` ${options.extra}` : ''}`;
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
