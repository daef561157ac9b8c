import { DUCKDB_DIALECT, quoteIdentifier } from '@org/sql-dialect';
import { addMissingColumnsSql, createTableSql, LEDGER_MONTHS_TABLE, ledgerMonthsUpdateSql, qualifiedName } from '@org/pipeline';
import {
  CURATED_SCHEMAS,
  DATASET_VERSIONS,
  latestRowsSql,
  rewardFactsSelectSql,
  type CuratedDataset,
  type LakeDataset,
} from '@org/rewards-transform';

/**
 * DuckDB's load plan. The rows live in tables of an internal schema, `_pipeline`, which keep beside each key a load
 * probes 32 bits of its md5 (`<column>_hash32`): a probe of 3M rows then compares integers instead of
 * 36-character strings, and every match is checked against the key itself, so a collision never touches the
 * wrong row. 32 bits rather than 64 because a probe scans the whole column, and half the bytes is half the memory,
 * for about one false match per probe of 3M rows, which the check drops. md5 rather than DuckDB's `hash()`, which is
 * not promised to stay the same across versions. What users query is a view per table in the main schema with
 * the curated columns only, so no internal column reaches them.
 */
export const STORE_SCHEMA = '_pipeline';

/** The key columns DuckDB keeps a probe hash of, per table. */
export const PROBED_COLUMNS: Record<CuratedDataset, readonly string[]> = {
  transactions: ['transaction_id'],
  rewards: ['reward_id', 'reference_id'],
  reward_facts: ['reward_id'],
};

/** The name of a probed column's hash column. */
export const probeHashColumn = (column: string): string => `${column}_hash32`;

/** Hash columns of earlier versions, which an upgrade replaces. */
const legacyHashColumn = (column: string): string => `${column}_hash`;

const probeHash = (expression: string) => `CAST(md5_number_lower(${expression}) >> 32 AS UINTEGER)`;

/** A table of the internal schema. */
export const storeTable = (dataset: CuratedDataset): string => qualifiedName(dataset, STORE_SCHEMA);

const columnsOf = (dataset: CuratedDataset) => CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name));

/** A table of the internal schema, with its probe hashes. */
export function storeTableSql(dataset: CuratedDataset, name?: string): string {
  return createTableSql(dataset, DUCKDB_DIALECT, {
    schema: STORE_SCHEMA,
    name,
    extraColumns: PROBED_COLUMNS[dataset].map((column) => `${quoteIdentifier(probeHashColumn(column))} UINTEGER`),
  });
}

/** The view users query in place of a table: its curated columns, nothing internal. */
export function publicViewSql(dataset: CuratedDataset): string {
  return `CREATE OR REPLACE VIEW ${quoteIdentifier(dataset)} AS SELECT ${columnsOf(dataset).join(', ')} FROM ${storeTable(dataset)}`;
}

/** The curated columns a table holds (what `addMissingColumnsSql` compares), leaving out the probe hashes. */
export function curatedColumnsOf(dataset: CuratedDataset, present: readonly string[]): string[] {
  const internal = new Set(PROBED_COLUMNS[dataset].flatMap((column) => [probeHashColumn(column), legacyHashColumn(column)]));
  return present.filter((name) => !internal.has(name));
}

/**
 * `INSERT INTO target (…) SELECT … FROM source` of a table's curated columns with their probe hashes computed.
 * `source` is a table or a parenthesised query with the curated columns (`columns` of them: fewer for a table of
 * an earlier version, whose missing columns stay null).
 */
export function insertRowsSql(dataset: CuratedDataset, target: string, source: string, columns = columnsOf(dataset)): string {
  const hashed = PROBED_COLUMNS[dataset];
  return (
    `INSERT INTO ${target} (${[...columns, ...hashed.map((column) => quoteIdentifier(probeHashColumn(column)))].join(', ')}) ` +
    `SELECT ${[...columns, ...hashed.map((column) => probeHash(quoteIdentifier(column)))].join(', ')} FROM ${source}${source.startsWith('(') ? ' AS source' : ''}`
  );
}

/**
 * The statements that move a table of an earlier version (in the main schema, its probe hashes missing, 64-bit or
 * beside the curated columns) into the internal schema with this version's hashes, and put the view in its place,
 * to run in one transaction of their own: the table is made anew, the rows copied with their hashes, the old one
 * dropped. (DuckDB refuses to change rows of a table that the same transaction altered, and a column added in one
 * transaction and filled in the next would be left empty by a crash between them.)
 */
export function moveLegacyTableSql(dataset: CuratedDataset, presentColumns: readonly string[]): string[] {
  const curatedNames = curatedColumnsOf(dataset, presentColumns);
  // Refuses, naming rebuild, a table whose columns are not the start of the curated schema.
  addMissingColumnsSql(dataset, curatedNames, DUCKDB_DIALECT);
  const curated = curatedNames.map(quoteIdentifier);
  return [
    storeTableSql(dataset),
    insertRowsSql(dataset, storeTable(dataset), quoteIdentifier(dataset), curated),
    `DROP TABLE ${quoteIdentifier(dataset)}`,
    publicViewSql(dataset),
  ];
}

/** Staging of one load, by lake dataset: views over the run's Parquet, with the curated columns. */
export type StagingViews = Record<LakeDataset, string>;

/**
 * The heart of a DuckDB load, once both datasets are staged; run it in the same transaction as the staging, so a
 * load is all or nothing:
 * 1. the latest staged row of each key (`latestRowsSql`, the rules' one definition), minus staged rewards older
 *    than the loaded ones (a later load wins a tie of versions);
 * 2. the late joins: loaded rewards whose reference_id is a staged transaction (a transaction arriving after its
 *    reward), read before the merge;
 * 3. both datasets merged: the staged keys' rows deleted, the staged rows inserted;
 * 4. the facts of exactly the affected rewards (1 and 2) deleted and derived again (`rewardFactsSelectSql`);
 * 5. the ledger's figures per month brought up to date from the rows 3 replaces and adds (`ledgerMonthsUpdateSql`).
 * Each big table is probed once, on the integer hashes of its keys; the matches are checked against the keys, then
 * fetched, deleted and replaced by `rowid` (fetching rows by rowid is a filter on an integer its zone maps can
 * prune). `into: 'empty'` (nothing loaded yet: a first load, a rebuild's first run) skips every probe and copy: the
 * latest rows go straight into the tables and the facts come from them.
 */
export function duckdbLoadStatements(options: { staging: StagingViews; into: 'loaded' | 'empty' }): string[] {
  const { staging } = options;
  const monthTables = { transactions: storeTable('transactions'), rewards: storeTable('rewards') };
  const stagingOf = (dataset: LakeDataset) => quoteIdentifier(staging[dataset]);
  const insertFacts = (rewardsSql: string, transactionsSql: string, referencedBy?: string) =>
    insertRowsSql(
      'reward_facts',
      storeTable('reward_facts'),
      `(${rewardFactsSelectSql({ dialect: DUCKDB_DIALECT, rewards: rewardsSql, transactions: transactionsSql, referencedBy })})`,
    );
  if (options.into === 'empty') {
    return [
      insertRowsSql(
        'transactions',
        storeTable('transactions'),
        `(${latestRowsSql('transactions', stagingOf('transactions'), DUCKDB_DIALECT)})`,
      ),
      insertRowsSql('rewards', storeTable('rewards'), `(${latestRowsSql('rewards', stagingOf('rewards'), DUCKDB_DIALECT)})`),
      insertFacts(storeTable('rewards'), storeTable('transactions')),
      // The tables were empty: figures kept before are stale, and theirs come from what they now hold.
      `DELETE FROM ${qualifiedName(LEDGER_MONTHS_TABLE, STORE_SCHEMA)}`,
      ...ledgerMonthsUpdateSql({ dialect: DUCKDB_DIALECT, schema: STORE_SCHEMA, tables: monthTables }),
    ];
  }

  const latest = (dataset: LakeDataset) => quoteIdentifier(`${staging[dataset]}_latest`);
  const late = quoteIdentifier(`${staging.rewards}_late`);
  const rewardHits = quoteIdentifier(`${staging.rewards}_hits`);
  const transactionHits = quoteIdentifier(`${staging.transactions}_hits`);
  const referenced = quoteIdentifier(`${staging.transactions}_referenced`);
  const factHits = quoteIdentifier(`${staging.rewards}_fact_hits`);
  const version = quoteIdentifier(DATASET_VERSIONS.rewards as string);
  const rewardColumns = columnsOf('rewards').join(', ');
  const transactionColumns = columnsOf('transactions').join(', ');
  const hashed = (column: string) => quoteIdentifier(probeHashColumn(column));
  const hashesOf = (column: string, source: string) => `(SELECT ${probeHash(quoteIdentifier(column))} FROM ${source})`;
  const stagedTransactionIds = `(SELECT "transaction_id" FROM ${latest('transactions')})`;
  const stagedRewardIds = `(SELECT "reward_id" FROM ${latest('rewards')})`;
  // Not a table of its own: a first load would copy every reward once more.
  const affected = `(SELECT ${rewardColumns} FROM ${latest('rewards')} AS l UNION ALL SELECT ${rewardColumns} FROM ${late} AS j)`;
  const citedOrStaged = `(SELECT "transaction_id" FROM ${latest('transactions')} UNION ALL SELECT "reference_id" FROM ${latest('rewards')} WHERE "reference_id" IS NOT NULL)`;
  const [rewards, transactions, facts] = [storeTable('rewards'), storeTable('transactions'), storeTable('reward_facts')];
  return [
    ...(['transactions', 'rewards'] as const).map(
      (dataset) => `CREATE TEMP TABLE ${latest(dataset)} AS ${latestRowsSql(dataset, stagingOf(dataset), DUCKDB_DIALECT)}`,
    ),
    // One probe of rewards finds both the loaded versions of the staged rewards and the late joins: integers only
    // in the scan (each IN on its own: an OR of the two scans the strings too), then the few rows found are read by
    // location.
    `CREATE TEMP TABLE ${rewardHits} AS SELECT rowid AS "row_id", "reward_id", ${version}, "reference_id" FROM ${rewards} WHERE rowid IN (` +
      `SELECT rowid FROM ${rewards} WHERE ${hashed('reward_id')} IN ${hashesOf('reward_id', latest('rewards'))} ` +
      `UNION SELECT rowid FROM ${rewards} WHERE ${hashed('reference_id')} IN ${hashesOf('transaction_id', latest('transactions'))})`,
    `DELETE FROM ${rewardHits} WHERE NOT ("reward_id" IN ${stagedRewardIds} OR COALESCE("reference_id" IN ${stagedTransactionIds}, FALSE))`,
    `DELETE FROM ${latest('rewards')} USING ${rewardHits} WHERE ${latest('rewards')}."reward_id" = ${rewardHits}."reward_id" AND ${latest('rewards')}.${version} < ${rewardHits}.${version}`,
    `CREATE TEMP TABLE ${late} AS SELECT ${rewardColumns} FROM ${rewards} WHERE rowid IN ` +
      `(SELECT "row_id" FROM ${rewardHits} WHERE "reference_id" IN ${stagedTransactionIds} AND "reward_id" NOT IN ${stagedRewardIds})`,
    // One probe of transactions finds the staged ones loaded before and those the staged rewards cite.
    `CREATE TEMP TABLE ${transactionHits} AS SELECT rowid AS "row_id", "transaction_id" FROM ${transactions} WHERE rowid IN (` +
      `SELECT rowid FROM ${transactions} WHERE ${hashed('transaction_id')} IN (SELECT ${probeHash('"transaction_id"')} FROM ${citedOrStaged} AS keys))`,
    `DELETE FROM ${transactionHits} WHERE "transaction_id" NOT IN ${citedOrStaged}`,
    `CREATE TEMP TABLE ${referenced} AS SELECT ${transactionColumns} FROM ${transactions} WHERE rowid IN ` +
      `(SELECT "row_id" FROM ${transactionHits} WHERE "transaction_id" NOT IN ${stagedTransactionIds})`,
    ...ledgerMonthsUpdateSql({
      dialect: DUCKDB_DIALECT,
      schema: STORE_SCHEMA,
      tables: monthTables,
      changes: {
        transactions: {
          removed: `(SELECT "transaction_date" FROM ${transactions} WHERE rowid IN (SELECT "row_id" FROM ${transactionHits} WHERE "transaction_id" IN ${stagedTransactionIds}))`,
          added: latest('transactions'),
        },
        rewards: { removed: `(SELECT ${version} FROM ${rewardHits} WHERE "reward_id" IN ${stagedRewardIds})`, added: latest('rewards') },
      },
    }),
    `DELETE FROM ${transactions} WHERE rowid IN (SELECT "row_id" FROM ${transactionHits} WHERE "transaction_id" IN ${stagedTransactionIds})`,
    insertRowsSql('transactions', transactions, latest('transactions')),
    `DELETE FROM ${rewards} WHERE rowid IN (SELECT "row_id" FROM ${rewardHits} WHERE "reward_id" IN ${stagedRewardIds})`,
    insertRowsSql('rewards', rewards, latest('rewards')),
    // One probe of the facts finds those of the affected rewards.
    `CREATE TEMP TABLE ${factHits} AS SELECT rowid AS "row_id", "reward_id" FROM ${facts} WHERE rowid IN (` +
      `SELECT rowid FROM ${facts} WHERE ${hashed('reward_id')} IN ${hashesOf('reward_id', affected + ' AS affected')})`,
    `DELETE FROM ${facts} WHERE rowid IN (SELECT "row_id" FROM ${factHits} WHERE "reward_id" IN (SELECT "reward_id" FROM ${affected} AS affected))`,
    // The affected rewards' transactions: the staged ones (now loaded as staged) and the others they cite.
    insertFacts(
      affected,
      `(SELECT ${transactionColumns} FROM ${latest('transactions')} UNION ALL SELECT ${transactionColumns} FROM ${referenced})`,
    ),
    ...[latest('transactions'), latest('rewards'), late, rewardHits, transactionHits, referenced, factHits].map(
      (temp) => `DROP TABLE ${temp}`,
    ),
  ];
}
