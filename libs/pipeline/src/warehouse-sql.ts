import { PipelineError } from './pipeline-errors';
import {
  CURATED_SCHEMAS,
  DATASET_KEYS,
  rewardFactsSelectSql,
  type ColumnSpec,
  type CuratedDataset,
  type LakeDataset,
  type SqlDialect,
} from '@org/rewards-transform';

export type { SqlDialect };

/** A double-quoted SQL identifier; refuses anything but plain names, so no identifier can inject SQL. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new PipelineError(`Not a plain SQL identifier: ${JSON.stringify(name)}`, { code: 'SQL_IDENTIFIER' });
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

export function createTableSql(
  dataset: CuratedDataset,
  dialect: SqlDialect,
  options: { schema?: string; extra?: string; name?: string } = {},
): string {
  const target = options.name ? qualified(options.name as CuratedDataset, options.schema) : qualified(dataset, options.schema);
  const columns = CURATED_SCHEMAS[dataset].map(
    (spec) => `  ${quoteIdentifier(spec.name)} ${columnType(spec, dialect)}${spec.nullable ? '' : ' NOT NULL'}`,
  );
  // Redshift's PRIMARY KEY is a planner hint. DuckDB's is an in-memory index that cannot spill: at millions of
  // keys it outgrew a bounded memory limit (measured: out of memory at 3M rows with 500 MB), and the merge
  // statements keep one row per key anyway.
  const key = dialect === 'redshift' ? `,\n  PRIMARY KEY (${quoteIdentifier(DATASET_KEYS[dataset])})` : '';
  return `CREATE TABLE IF NOT EXISTS ${target} (\n${[...columns, ...probeHashDefinitions(dataset, dialect)].join(',\n')}${key}\n)${options.extra ? ` ${options.extra}` : ''}`;
}

/**
 * The statements that bring an existing table up to the curated schema: `CREATE TABLE IF NOT EXISTS` never adds
 * a column, and COPY from Parquet needs the table's columns, in order. Columns are only ever appended to the
 * curated schemas, so a table is a prefix of its schema; one that is not (a column renamed, dropped or moved)
 * is refused with what to do, never loaded into the wrong columns. An added column is nullable: the rows
 * loaded before it existed have no value for it.
 */
export function addMissingColumnsSql(
  dataset: CuratedDataset,
  presentColumns: readonly string[],
  dialect: SqlDialect,
  schema?: string,
): string[] {
  const wanted = CURATED_SCHEMAS[dataset];
  // DuckDB's probe hashes, this version's and the 64-bit ones of earlier versions (which the next load replaces),
  // are not part of the curated schema (and COPY never meets them).
  const hashes = new Set(PROBED_COLUMNS[dataset].flatMap((column) => [probeHashColumn(column), `${column}_hash`]));
  const present = presentColumns.filter((name) => !hashes.has(name));
  if (!present.length) return [];
  const mismatch = present.findIndex((name, i) => wanted[i]?.name !== name);
  if (mismatch >= 0) {
    throw new PipelineError(
      `The warehouse table ${dataset} has the columns (${present.join(', ')}), which are not the start of the curated schema (${wanted.map((spec) => spec.name).join(', ')}): ` +
        `column ${mismatch + 1} is ${present[mismatch]}, expected ${wanted[mismatch]?.name ?? 'none'}. Rebuild the warehouse from the lake (mode "rebuild") after dropping the table.`,
    );
  }
  return wanted
    .slice(present.length)
    .map((spec) => `ALTER TABLE ${qualified(dataset, schema)} ADD COLUMN ${quoteIdentifier(spec.name)} ${columnType(spec, dialect)}`);
}

/** The columns of the pipeline's tables as the warehouse has them, in order: feed its rows to `addMissingColumnsSql`. */
export function presentColumnsSql(schema: string | undefined, dialect: SqlDialect): string {
  const schemaName = schema ?? (dialect === 'duckdb' ? 'main' : 'public');
  return (
    `SELECT table_name AS "table_name", column_name AS "column_name" FROM information_schema.columns WHERE table_schema = ${quoteLiteral(schemaName)} ` +
    `AND table_name IN (${Object.keys(CURATED_SCHEMAS).map(quoteLiteral).join(', ')}) ORDER BY table_name, ordinal_position`
  );
}

/**
 * The statements that merge a loaded staging table into the target, the same text for DuckDB and Redshift:
 * keep one row per key in staging (the latest version), drop staged rows older than what the target holds,
 * then replace: delete the target rows of the staged keys and insert the staged rows (AWS's "merge by replacing
 * existing rows"; on DuckDB a MERGE's UPDATE of every column took 175 ms for 1,400 rows of a 3M-row table, the
 * DELETE 50 ms). Run them in one transaction after loading `staging`; `${staging}_latest` stays for the caller
 * (the facts need it) until `dropLatest` is run.
 */
export function mergeStatements(
  dataset: LakeDataset,
  options: { staging: string; schema?: string; dialect?: SqlDialect },
): { statements: string[]; latest: string; dropLatest: string } {
  const target = qualified(dataset, options.schema);
  const deduped = quoteIdentifier(`${options.staging}_latest`);
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const version = VERSION_COLUMNS[dataset];
  const statements = [`CREATE TEMP TABLE ${deduped} AS ${latestStagedRowsSql(dataset, options.staging)}`];
  if (version) {
    const v = quoteIdentifier(version);
    statements.push(
      `DELETE FROM ${deduped} USING ${target} WHERE ${deduped}.${key} = ${target}.${key} AND ${deduped}.${v} < ${target}.${v}`,
    );
  }
  statements.push(
    `DELETE FROM ${target} WHERE ${key} IN (SELECT ${key} FROM ${deduped})`,
    insertRowsSql(dataset, options.dialect ?? 'redshift', target, deduped),
  );
  return { statements, latest: deduped, dropLatest: `DROP TABLE ${deduped}` };
}

/**
 * The latest staged row of each key (the newest version; for transactions, which have none, any one of equal
 * copies), in the curated columns. Rows of keys staged once pass straight through; only the keys staged more
 * than once are ranked. A first load of millions of rows then streams instead of sorting them all: measured at
 * 3M + 3M rows on DuckDB, 16 s and 350 MB of RSS at a 160 MB limit, where ranking every row took 25 s and
 * ran past 900 MB at a 512 MB limit.
 */
export function latestStagedRowsSql(dataset: LakeDataset, staging: string): string {
  const table = quoteIdentifier(staging);
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const version = VERSION_COLUMNS[dataset];
  const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');
  const order = version ? `${quoteIdentifier(version)} DESC` : key;
  const repeated = `(SELECT ${key} FROM ${table} GROUP BY ${key} HAVING COUNT(*) > 1)`;
  return (
    `SELECT ${columns} FROM ${table} WHERE ${key} NOT IN ${repeated} ` +
    `UNION ALL SELECT ${columns} FROM (SELECT ${columns}, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${order}) AS "row_rank" ` +
    `FROM ${table} WHERE ${key} IN ${repeated}) AS ranked WHERE "row_rank" = 1`
  );
}

function qualified(dataset: CuratedDataset, schema?: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(dataset)}` : quoteIdentifier(dataset);
}

/** Staging of one load, by lake dataset: tables filled by COPY (Redshift) or views over the run's Parquet (DuckDB), ready before `runLoadStatements`. */
export type StagingTables = Record<LakeDataset, string>;

/**
 * Where a load differs by warehouse, and why: the one place.
 * - `rowLocator`: DuckDB finds a row again by `rowid` without a second probe (fetching rows by rowid is a filter
 *   on an integer its zone maps can prune). Redshift has none.
 * - `probeHash`: DuckDB keeps, beside each key column a load probes, 32 bits of its md5 (`<column>_hash32`), so
 *   a probe of 3M rows compares integers (8 ms) instead of 36-character strings (59 ms); every match is then
 *   checked against the key itself, so a collision can never touch the wrong row. 32 bits, not 64: a probe
 *   scans the whole column, and half the bytes is half the memory it takes (measured at 3M rows: 13 MB of RSS
 *   a column instead of 25), for about one false match per probe of 3M rows, which the check drops. md5 rather
 *   than DuckDB's `hash()`, which is not promised to stay the same across versions. Redshift's cost model is
 *   its sort and distribution keys; it keeps no such column.
 */
const LOAD_DIALECT: Record<SqlDialect, { rowLocator?: string; probeHash?: (expression: string) => string }> = {
  duckdb: { rowLocator: 'rowid', probeHash: (expression) => `CAST(md5_number_lower(${expression}) >> 32 AS UINTEGER)` },
  redshift: {},
};

/** The key columns DuckDB keeps a probe hash of, per table. */
export const PROBED_COLUMNS: Record<CuratedDataset, readonly string[]> = {
  transactions: ['transaction_id'],
  rewards: ['reward_id', 'reference_id'],
  reward_facts: ['reward_id'],
};

/** The name of a probed column's hash column. */
export const probeHashColumn = (column: string): string => `${column}_hash32`;

/** The probe-hash columns a dialect keeps for a table, as `CREATE TABLE` column definitions. */
function probeHashDefinitions(dataset: CuratedDataset, dialect: SqlDialect): string[] {
  return LOAD_DIALECT[dialect].probeHash
    ? PROBED_COLUMNS[dataset].map((column) => `  ${quoteIdentifier(probeHashColumn(column))} UINTEGER`)
    : [];
}

/**
 * `INSERT INTO target (…) SELECT … FROM source` of a table's curated columns, with the probe hashes computed
 * where the dialect keeps them. `source` is a table or a parenthesised query with the curated columns.
 */
export function insertRowsSql(dataset: CuratedDataset, dialect: SqlDialect, target: string, source: string): string {
  const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name));
  const hash = LOAD_DIALECT[dialect].probeHash;
  const hashed = hash ? PROBED_COLUMNS[dataset] : [];
  return (
    `INSERT INTO ${target} (${[...columns, ...hashed.map((column) => quoteIdentifier(probeHashColumn(column)))].join(', ')}) ` +
    `SELECT ${[...columns, ...hashed.map((column) => (hash as (e: string) => string)(quoteIdentifier(column)))].join(', ')} FROM ${source}${source.startsWith('(') ? ' AS source' : ''}`
  );
}

/**
 * The statements that give an existing DuckDB table the probe-hash columns it lacks (tables made before they
 * existed, or with the 64-bit `<column>_hash` of earlier versions, which go), to run in one transaction of their own: the table is made anew, the rows copied with their hashes,
 * and it takes the old one's place. (DuckDB refuses to fill a column in the transaction that added it, and a column added in one
 * transaction and filled in the next would be left empty by a crash between them.)
 */
export function addMissingProbeHashesSql(
  dataset: CuratedDataset,
  present: readonly string[],
  dialect: SqlDialect,
  schema?: string,
): string[] {
  const hash = LOAD_DIALECT[dialect].probeHash;
  const missing = PROBED_COLUMNS[dataset].filter((column) => !present.includes(probeHashColumn(column)));
  if (!hash || !present.length || !missing.length) return [];
  const rebuilt = `${dataset}__with_probe_hashes`;
  // The table made anew as this version makes it (constraints included), the rows copied with their hashes.
  const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name));
  return [
    createTableSql(dataset, dialect, { schema, name: rebuilt }),
    `INSERT INTO ${qualified(rebuilt as CuratedDataset, schema)} (${[...columns, ...PROBED_COLUMNS[dataset].map((column) => quoteIdentifier(probeHashColumn(column)))].join(', ')}) ` +
      `SELECT ${[...columns, ...PROBED_COLUMNS[dataset].map((column) => hash(quoteIdentifier(column)))].join(', ')} FROM ${qualified(dataset, schema)}`,
    `DROP TABLE ${qualified(dataset, schema)}`,
    `ALTER TABLE ${qualified(rebuilt as CuratedDataset, schema)} RENAME TO ${quoteIdentifier(dataset)}`,
  ];
}

/**
 * The heart of a load, once both datasets are staged (tables or views); run it in the same transaction as the staging,
 * so a load is all or nothing:
 * 1. the latest staged version of each key, minus staged rewards older than the loaded ones;
 * 2. the late joins: loaded rewards whose reference_id is a staged transaction (a transaction arriving after
 *    its reward), read before the merge;
 * 3. both datasets merged (`mergeStatements`: the staged keys deleted, the staged rows inserted);
 * 4. the facts of exactly the affected rewards (1 and 2) deleted and derived again, with the definitions of
 *    `@org/rewards-transform` (`rewardFactsSelectSql`), from the affected rows and the transactions they cite.
 * Late joins then work both ways, and a run's cost follows its own rows: each big table is probed by key a fixed
 * number of times (DuckDB: once each, on integer hashes), never joined whole. The text is the same for both
 * warehouses but for `LOAD_DIALECT`. `into: 'empty'` (nothing loaded yet: a first load, a rebuild's first run)
 * skips every probe and copy: the latest rows go straight into the tables and the facts come from them.
 */
export function runLoadStatements(options: {
  dialect: SqlDialect;
  staging: StagingTables;
  schema?: string;
  into?: 'loaded' | 'empty';
}): string[] {
  const { dialect, staging, schema } = options;
  const table = (name: CuratedDataset) => qualified(name, schema);
  const transactions = mergeStatements('transactions', { staging: staging.transactions, schema, dialect });
  const rewards = mergeStatements('rewards', { staging: staging.rewards, schema, dialect });
  // Transactions have no version column, so nothing staged is older than what is loaded.
  const [dedupeTransactions, deleteLoadedTransactions, insertTransactions] = transactions.statements;
  const [dedupeRewards, dropOlderRewards, deleteLoadedRewards, insertRewards] = rewards.statements;
  const late = quoteIdentifier(`${staging.rewards}_late`);
  const transactionColumns = CURATED_SCHEMAS.transactions.map((spec) => quoteIdentifier(spec.name)).join(', ');
  const rewardColumns = CURATED_SCHEMAS.rewards.map((spec) => quoteIdentifier(spec.name)).join(', ');
  const insertFacts = (rewardsSql: string, transactionsSql: string, referencedBy?: string) =>
    insertRowsSql(
      'reward_facts',
      dialect,
      table('reward_facts'),
      `(${rewardFactsSelectSql({ dialect, rewards: rewardsSql, transactions: transactionsSql, referencedBy })})`,
    );

  if (options.into === 'empty') {
    // Nothing loaded yet (a first load, a rebuild's first run): nothing to merge with, no late join, no facts to
    // replace, so every probe would only cost memory. The latest rows go straight into the tables (no copy of
    // them in between), and the facts come from the two tables, which hold exactly this load.
    return [
      insertRowsSql('transactions', dialect, table('transactions'), `(${latestStagedRowsSql('transactions', staging.transactions)})`),
      insertRowsSql('rewards', dialect, table('rewards'), `(${latestStagedRowsSql('rewards', staging.rewards)})`),
      insertFacts(table('rewards'), table('transactions')),
    ];
  }

  // Not a table of its own: a first load would copy every reward once more.
  const affected = `(SELECT ${rewardColumns} FROM ${rewards.latest} AS l UNION ALL SELECT ${rewardColumns} FROM ${late} AS j)`;
  const stagedTransactionIds = `(SELECT "transaction_id" FROM ${transactions.latest})`;
  const stagedRewardIds = `(SELECT "reward_id" FROM ${rewards.latest})`;
  const { rowLocator: locator, probeHash } = LOAD_DIALECT[dialect];
  if (!locator || !probeHash) {
    return [
      dedupeTransactions,
      dedupeRewards,
      dropOlderRewards,
      `CREATE TEMP TABLE ${late} AS SELECT ${rewardColumns} FROM ${table('rewards')} WHERE "reference_id" IN ${stagedTransactionIds}`,
      // A late-joined reward staged again in this run is affected through its staged (newer) row.
      `DELETE FROM ${late} WHERE "reward_id" IN ${stagedRewardIds}`,
      deleteLoadedTransactions,
      insertTransactions,
      deleteLoadedRewards,
      insertRewards,
      `DELETE FROM ${table('reward_facts')} WHERE "reward_id" IN (SELECT "reward_id" FROM ${affected} AS affected)`,
      insertFacts(affected, table('transactions'), affected),
      transactions.dropLatest,
      rewards.dropLatest,
      `DROP TABLE ${late}`,
    ];
  }
  // DuckDB: each big table is probed once, on the integer hashes of its keys; the matches are checked against the
  // keys themselves, then fetched, deleted and replaced by location.
  const hashed = (column: string) => quoteIdentifier(probeHashColumn(column));
  const hashesOf = (column: string, source: string) => `(SELECT ${probeHash(quoteIdentifier(column))} FROM ${source})`;
  const rewardHits = quoteIdentifier(`${staging.rewards}_hits`);
  const transactionHits = quoteIdentifier(`${staging.transactions}_hits`);
  const referenced = quoteIdentifier(`${staging.transactions}_referenced`);
  const factHits = quoteIdentifier(`${staging.rewards}_fact_hits`);
  const citedOrStaged = `(SELECT "transaction_id" FROM ${transactions.latest} UNION ALL SELECT "reference_id" FROM ${rewards.latest} WHERE "reference_id" IS NOT NULL)`;
  return [
    dedupeTransactions,
    dedupeRewards,
    // One scan of rewards finds both the loaded versions of the staged rewards and the late joins.
    // Integers only in the scan (each IN on its own: an OR of the two scans the strings too), then the few rows
    // found are read by location.
    `CREATE TEMP TABLE ${rewardHits} AS SELECT ${locator} AS "row_id", "reward_id", "updated_at", "reference_id" FROM ${table('rewards')} WHERE ${locator} IN (` +
      `SELECT ${locator} FROM ${table('rewards')} WHERE ${hashed('reward_id')} IN ${hashesOf('reward_id', rewards.latest)} ` +
      `UNION SELECT ${locator} FROM ${table('rewards')} WHERE ${hashed('reference_id')} IN ${hashesOf('transaction_id', transactions.latest)})`,
    `DELETE FROM ${rewardHits} WHERE NOT ("reward_id" IN ${stagedRewardIds} OR COALESCE("reference_id" IN ${stagedTransactionIds}, FALSE))`,
    `DELETE FROM ${rewards.latest} USING ${rewardHits} WHERE ${rewards.latest}."reward_id" = ${rewardHits}."reward_id" AND ${rewards.latest}."updated_at" < ${rewardHits}."updated_at"`,
    `CREATE TEMP TABLE ${late} AS SELECT ${rewardColumns} FROM ${table('rewards')} WHERE ${locator} IN ` +
      `(SELECT "row_id" FROM ${rewardHits} WHERE "reference_id" IN ${stagedTransactionIds} AND "reward_id" NOT IN ${stagedRewardIds})`,
    // One scan of transactions finds the staged ones loaded before and those the staged rewards cite.
    `CREATE TEMP TABLE ${transactionHits} AS SELECT ${locator} AS "row_id", "transaction_id" FROM ${table('transactions')} WHERE ${locator} IN (` +
      `SELECT ${locator} FROM ${table('transactions')} WHERE ${hashed('transaction_id')} IN (SELECT ${probeHash('"transaction_id"')} FROM ${citedOrStaged} AS keys))`,
    `DELETE FROM ${transactionHits} WHERE "transaction_id" NOT IN ${citedOrStaged}`,
    `CREATE TEMP TABLE ${referenced} AS SELECT ${transactionColumns} FROM ${table('transactions')} WHERE ${locator} IN ` +
      `(SELECT "row_id" FROM ${transactionHits} WHERE "transaction_id" NOT IN ${stagedTransactionIds})`,
    `DELETE FROM ${table('transactions')} WHERE ${locator} IN (SELECT "row_id" FROM ${transactionHits} WHERE "transaction_id" IN ${stagedTransactionIds})`,
    insertTransactions,
    `DELETE FROM ${table('rewards')} WHERE ${locator} IN (SELECT "row_id" FROM ${rewardHits} WHERE "reward_id" IN ${stagedRewardIds})`,
    insertRewards,
    // One scan of the facts finds those of the affected rewards.
    `CREATE TEMP TABLE ${factHits} AS SELECT ${locator} AS "row_id", "reward_id" FROM ${table('reward_facts')} WHERE ${locator} IN (` +
      `SELECT ${locator} FROM ${table('reward_facts')} WHERE ${hashed('reward_id')} IN ${hashesOf('reward_id', affected + ' AS affected')})`,
    `DELETE FROM ${table('reward_facts')} WHERE ${locator} IN (SELECT "row_id" FROM ${factHits} WHERE "reward_id" IN (SELECT "reward_id" FROM ${affected} AS affected))`,
    // The affected rewards' transactions: the staged ones (now loaded as staged) and the others they cite.
    insertFacts(
      affected,
      `(SELECT ${transactionColumns} FROM ${transactions.latest} UNION ALL SELECT ${transactionColumns} FROM ${referenced})`,
    ),
    transactions.dropLatest,
    rewards.dropLatest,
    `DROP TABLE ${late}`,
    `DROP TABLE ${rewardHits}`,
    `DROP TABLE ${transactionHits}`,
    `DROP TABLE ${referenced}`,
    `DROP TABLE ${factHits}`,
  ];
}

/** Counts after a load: rows per table, and how many facts of the load's rewards found no transaction. */
export function tableCountsSql(schema?: string): string {
  const count = (name: CuratedDataset) => `(SELECT count(*) FROM ${qualified(name, schema)})`;
  return (
    `SELECT ${count('transactions')} AS "transactions", ${count('rewards')} AS "rewards", ${count('reward_facts')} AS "reward_facts", ` +
    `(SELECT count(*) FROM ${qualified('reward_facts', schema)} WHERE NOT "has_transaction") AS "facts_without_transaction"`
  );
}
