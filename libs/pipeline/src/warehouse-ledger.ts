import { quoteLiteral, type SqlDialect } from '@org/sql-dialect';
import { ledgerDigestSql, type CuratedDataset, type LakeDataset } from '@org/rewards-transform';
import { qualifiedName } from './warehouse-schema';

/**
 * The warehouse's own record of what it holds: one row per run whose load it committed, written by that load's
 * own statements, in its transaction. A warehouse restored from a backup, or whose last commits were lost, has
 * the ledger of that moment; a table changed by hand no longer matches its ledger's counts. The reconciliation
 * compares it with the lake's committed manifests (`reconcile.ts`) on every run, reading no Parquet.
 */
export interface LedgerEntry {
  runId: string;
  /** Order of the loads: 1, 2, 3, … */
  seq: number;
  loadedAt: string;
  /**
   * What the run's Parquet holds for the warehouse: its keys at their latest version, counted and digested
   * (`ledgerDigestSql`); null for an entry adopted from a warehouse that had no ledger.
   */
  loaded: Record<LakeDataset, { rows: number; digest: string } | null>;
  /** Rows in each table once the load committed. */
  inTable: Record<CuratedDataset, number>;
  /** Adopted from a warehouse that kept no ledger: it stands for this run and every committed run before it. */
  coversEarlier: boolean;
}

export const LEDGER_TABLE = 'load_ledger';

/** The ledger table, in any dialect (the names of its columns are those `ledgerEntryOf` reads). */
export function ledgerTableSql(dialect: SqlDialect, schema?: string): string {
  const text = dialect.columnType({ kind: 'string' });
  return (
    `CREATE TABLE IF NOT EXISTS ${qualifiedName(LEDGER_TABLE, schema)} (` +
    `"seq" BIGINT NOT NULL, "run_id" ${text} NOT NULL, "loaded_at" ${text} NOT NULL, ` +
    `"transactions_loaded" BIGINT, "transactions_digest" BIGINT, "rewards_loaded" BIGINT, "rewards_digest" BIGINT, ` +
    `"transactions_in_table" BIGINT NOT NULL, "rewards_in_table" BIGINT NOT NULL, "reward_facts_in_table" BIGINT NOT NULL, ` +
    `"covers_earlier" BOOLEAN NOT NULL)`
  );
}

/** The ledger's rows in load order. */
export function ledgerSelectSql(schema?: string): string {
  return `SELECT * FROM ${qualifiedName(LEDGER_TABLE, schema)} ORDER BY "seq"`;
}

export interface LedgerWrite {
  runId: string;
  loadedAt: Date;
  dialect: SqlDialect;
  /** The schema of the ledger. */
  schema?: string;
  /** What each dataset staged (a table or view of the run's rows, duplicates included). */
  staging: Record<LakeDataset, string>;
  /** The tables (or views) whose rows are counted once the load is done. */
  tables: Record<CuratedDataset, string>;
}

/**
 * The statements that record a load in the ledger, for the end of the load's own transaction: the run's entry
 * replaced (a run loaded again after a crash keeps one entry, at its latest place), with the digests of what it
 * staged and the tables' counts after it.
 */
export function ledgerRecordSql(write: LedgerWrite): string[] {
  const ledger = qualifiedName(LEDGER_TABLE, write.schema);
  const digest = (dataset: LakeDataset) => `(${ledgerDigestSql(dataset, write.staging[dataset], write.dialect)})`;
  const count = (dataset: CuratedDataset) => `(SELECT COUNT(*) FROM ${write.tables[dataset]})`;
  return [
    `DELETE FROM ${ledger} WHERE "run_id" = ${quoteLiteral(write.runId)}`,
    `INSERT INTO ${ledger} SELECT (SELECT COALESCE(MAX("seq"), 0) + 1 FROM ${ledger}), ${quoteLiteral(write.runId)}, ` +
      `${quoteLiteral(write.loadedAt.toISOString())}, t."rows", t."digest", r."rows", r."digest", ` +
      `${count('transactions')}, ${count('rewards')}, ${count('reward_facts')}, FALSE ` +
      `FROM ${digest('transactions')} AS t CROSS JOIN ${digest('rewards')} AS r`,
  ];
}

/**
 * The entry that adopts a warehouse kept before the ledger existed: it holds every committed run up to `runId`
 * (its counts agreed with the cursor), with no digests.
 */
export function ledgerAdoptSql(runId: string, loadedAt: Date, tables: Record<CuratedDataset, string>, schema?: string): string {
  const count = (dataset: CuratedDataset) => `(SELECT COUNT(*) FROM ${tables[dataset]})`;
  return (
    `INSERT INTO ${qualifiedName(LEDGER_TABLE, schema)} SELECT (SELECT COALESCE(MAX("seq"), 0) + 1 FROM ${qualifiedName(LEDGER_TABLE, schema)}), ` +
    `${quoteLiteral(runId)}, ${quoteLiteral(loadedAt.toISOString())}, NULL, NULL, NULL, NULL, ` +
    `${count('transactions')}, ${count('rewards')}, ${count('reward_facts')}, TRUE`
  );
}

/** After the facts were derived again: the last entry's count of facts set to what the table now holds. */
export function ledgerFactsCountSql(factsTable: string, schema?: string): string {
  const ledger = qualifiedName(LEDGER_TABLE, schema);
  return `UPDATE ${ledger} SET "reward_facts_in_table" = (SELECT COUNT(*) FROM ${factsTable}) WHERE "seq" = (SELECT MAX("seq") FROM ${ledger})`;
}

/** An entry from a row of `ledgerSelectSql` (numbers may come as text or bigint from a driver). */
export function ledgerEntryOf(row: Record<string, unknown>): LedgerEntry {
  const loaded = (dataset: LakeDataset) =>
    row[`${dataset}_loaded`] === null || row[`${dataset}_loaded`] === undefined
      ? null
      : { rows: Number(row[`${dataset}_loaded`]), digest: String(row[`${dataset}_digest`]) };
  return {
    runId: String(row['run_id']),
    seq: Number(row['seq']),
    loadedAt: String(row['loaded_at']),
    loaded: { transactions: loaded('transactions'), rewards: loaded('rewards') },
    inTable: {
      transactions: Number(row['transactions_in_table']),
      rewards: Number(row['rewards_in_table']),
      reward_facts: Number(row['reward_facts_in_table']),
    },
    coversEarlier: row['covers_earlier'] === true || row['covers_earlier'] === 'true',
  };
}
