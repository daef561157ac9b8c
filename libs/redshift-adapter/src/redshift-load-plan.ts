import { quoteIdentifier, REDSHIFT_DIALECT } from '@org/sql-dialect';
import { ledgerMonthsUpdateSql, qualifiedName } from '@org/pipeline';
import {
  CURATED_SCHEMAS,
  DATASET_KEYS,
  DATASET_VERSIONS,
  latestRowsSql,
  rewardFactsSelectSql,
  type CuratedDataset,
  type LakeDataset,
} from '@org/rewards-transform';

/** The staging table of each lake dataset, filled by COPY before the merge. */
export type StagingTables = Record<LakeDataset, string>;

const columnsOf = (dataset: CuratedDataset) => CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');

/**
 * Redshift's merge of one load, once both datasets are staged, for the same transaction as the staging:
 * 1. the latest staged row of each key (`latestRowsSql`, the rules' one definition), minus staged rewards older
 *    than the loaded ones (a later load wins a tie of versions);
 * 2. the late joins: loaded rewards whose reference_id is a staged transaction (a transaction arriving after its
 *    reward), read before the merge;
 * 3. both datasets merged by replacing rows: the staged keys deleted, the staged rows inserted (AWS's "merge by
 *    replacing existing rows");
 * 4. the facts of exactly the affected rewards (1 and 2) deleted and derived again (`rewardFactsSelectSql`), from
 *    the affected rows and the transactions they cite;
 * 5. before 3, the ledger's figures per month brought up to date from the rows 3 replaces and adds
 *    (`ledgerMonthsUpdateSql`).
 * Each big table is probed by key, and its cost is Redshift's to plan (its sort and distribution keys). The temp
 * tables end with the batch's session, so none is dropped.
 */
export function redshiftMergeStatements(options: { staging: StagingTables; schema?: string }): string[] {
  const { staging, schema } = options;
  const table = (name: CuratedDataset) => qualifiedName(name, schema);
  const latest = (dataset: LakeDataset) => quoteIdentifier(`${staging[dataset]}_latest`);
  const late = quoteIdentifier(`${staging.rewards}_late`);
  const key = (dataset: LakeDataset) => quoteIdentifier(DATASET_KEYS[dataset]);
  const version = quoteIdentifier(DATASET_VERSIONS.rewards as string);
  const rewardColumns = columnsOf('rewards');
  const stagedTransactionIds = `(SELECT "transaction_id" FROM ${latest('transactions')})`;
  const stagedRewardIds = `(SELECT "reward_id" FROM ${latest('rewards')})`;
  const affected = `(SELECT ${rewardColumns} FROM ${latest('rewards')} AS l UNION ALL SELECT ${rewardColumns} FROM ${late} AS j)`;
  const replace = (dataset: LakeDataset) => [
    `DELETE FROM ${table(dataset)} WHERE ${key(dataset)} IN (SELECT ${key(dataset)} FROM ${latest(dataset)})`,
    `INSERT INTO ${table(dataset)} (${columnsOf(dataset)}) SELECT ${columnsOf(dataset)} FROM ${latest(dataset)}`,
  ];
  const facts = rewardFactsSelectSql({
    dialect: REDSHIFT_DIALECT,
    rewards: affected,
    transactions: table('transactions'),
    referencedBy: affected,
  });
  return [
    ...(['transactions', 'rewards'] as const).map(
      (dataset) => `CREATE TEMP TABLE ${latest(dataset)} AS ${latestRowsSql(dataset, quoteIdentifier(staging[dataset]), REDSHIFT_DIALECT)}`,
    ),
    `DELETE FROM ${latest('rewards')} USING ${table('rewards')} WHERE ${latest('rewards')}."reward_id" = ${table('rewards')}."reward_id" ` +
      `AND ${latest('rewards')}.${version} < ${table('rewards')}.${version}`,
    `CREATE TEMP TABLE ${late} AS SELECT ${rewardColumns} FROM ${table('rewards')} WHERE "reference_id" IN ${stagedTransactionIds}`,
    // A late-joined reward staged again in this load is affected through its staged (newer) row.
    `DELETE FROM ${late} WHERE "reward_id" IN ${stagedRewardIds}`,
    ...ledgerMonthsUpdateSql({
      dialect: REDSHIFT_DIALECT,
      schema,
      tables: { transactions: table('transactions'), rewards: table('rewards') },
      changes: {
        transactions: {
          removed: `(SELECT "transaction_date" FROM ${table('transactions')} WHERE "transaction_id" IN ${stagedTransactionIds})`,
          added: latest('transactions'),
        },
        rewards: {
          removed: `(SELECT ${version} FROM ${table('rewards')} WHERE "reward_id" IN ${stagedRewardIds})`,
          added: latest('rewards'),
        },
      },
    }),
    ...replace('transactions'),
    ...replace('rewards'),
    `DELETE FROM ${table('reward_facts')} WHERE "reward_id" IN (SELECT "reward_id" FROM ${affected} AS affected)`,
    `INSERT INTO ${table('reward_facts')} (${columnsOf('reward_facts')}) SELECT ${columnsOf('reward_facts')} FROM (${facts}) AS facts`,
  ];
}
