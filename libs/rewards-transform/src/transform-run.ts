import { concatTables, type Table } from './table';
import { formatCsv, parseCsv, type CsvColumns } from './csv';
import { cleanRewards, cleanTransactions } from './clean-datasets';
import { CURATED_SCHEMAS, REWARD_FACTS_SCHEMA, REWARDS_SCHEMA, TRANSACTIONS_SCHEMA } from './curated-schemas';
import { dedupeLatest } from './dedupe';
import { tableToParquet, type ParquetCompression } from './parquet-output';
import { countReasons, nullRates, type QualityReport } from './quality-report';
import type { CleaningResult, RejectedRow } from './raw-cleaning';
import { buildRewardFacts } from './reward-facts';

export interface TransformInput {
  /** This run's raw transactions CSV (as extract wrote it). */
  transactionsCsv: string;
  /** This run's raw rewards CSV. */
  rewardsCsv: string;
  /**
   * Curated transactions from earlier runs (the current state), so rewards join to transactions that
   * arrived before this run. Rows of this run replace earlier rows with the same id.
   */
  knownTransactions?: Table;
  compression?: ParquetCompression;
  /** Called after each phase (parse and clean once per dataset), for progress reporting and benchmarks. */
  onPhase?: (phase: TransformPhase, millis: number) => void;
}

export type TransformPhase = 'parse' | 'clean' | 'dedupe' | 'join' | 'parquet';

export interface TransformOutput {
  tables: { transactions: Table; rewards: Table; reward_facts: Table };
  parquet: { transactions: Uint8Array; rewards: Uint8Array; reward_facts: Uint8Array };
  /** Rejected rows as CSV (original cells + reason), only for datasets with rejects. */
  rejectsCsv: Partial<Record<'transactions' | 'rewards', string>>;
  quality: QualityReport;
}

/**
 * One run of the rules: raw CSV in, curated Parquet + rejects + quality report out. Pure: it reads only what
 * it is handed and returns buffers; where they go is the caller's business.
 */
export function transformRun(input: TransformInput): TransformOutput {
  let mark = performance.now();
  const phase = (name: TransformPhase) => {
    const now = performance.now();
    input.onPhase?.(name, now - mark);
    mark = now;
  };

  // Parse and clean each dataset in a helper, so the raw cell strings (millions of them) are garbage as soon
  // as the typed columns exist, instead of staying alive and slowing every later collection.
  const transactionsClean = parseAndClean(input.transactionsCsv, cleanTransactions, phase);
  const rewardsClean = parseAndClean(input.rewardsCsv, cleanRewards, phase);
  const rawTransactions = transactionsClean.raw;
  const rawRewards = rewardsClean.raw;

  const transactions = dedupeLatest(transactionsClean.table, 'transaction_id');
  const rewards = dedupeLatest(rewardsClean.table, 'reward_id', 'updated_at');
  const joinable = input.knownTransactions
    ? dedupeLatest(concatTables(input.knownTransactions, transactions.table), 'transaction_id').table
    : transactions.table;
  phase('dedupe');

  const facts = buildRewardFacts(rewards.table, joinable);
  phase('join');

  const compression = input.compression ?? 'snappy';
  const parquet = {
    transactions: tableToParquet(transactions.table, TRANSACTIONS_SCHEMA, compression),
    rewards: tableToParquet(rewards.table, REWARDS_SCHEMA, compression),
    reward_facts: tableToParquet(facts.table, REWARD_FACTS_SCHEMA, compression),
  };
  phase('parquet');

  const rejectsCsv: TransformOutput['rejectsCsv'] = {};
  if (transactionsClean.rejects.length) rejectsCsv.transactions = rejectsToCsv(rawTransactions.header, transactionsClean.rejects);
  if (rewardsClean.rejects.length) rejectsCsv.rewards = rejectsToCsv(rawRewards.header, rewardsClean.rejects);

  return {
    tables: { transactions: transactions.table, rewards: rewards.table, reward_facts: facts.table },
    parquet,
    rejectsCsv,
    quality: {
      transactions: {
        rowsIn: rawTransactions.rowCount,
        rowsOut: transactions.table.length,
        rejected: transactionsClean.rejects.length,
        rejectedByReason: countReasons(transactionsClean.rejects),
        duplicatesRemoved: transactions.duplicatesRemoved,
        nullRates: nullRates(transactions.table, ['description', 'transaction_type', 'is_debit', 'user_id']),
      },
      rewards: {
        rowsIn: rawRewards.rowCount,
        rowsOut: rewards.table.length,
        rejected: rewardsClean.rejects.length,
        rejectedByReason: countReasons(rewardsClean.rejects),
        duplicatesRemoved: rewards.duplicatesRemoved,
        nullRates: nullRates(rewards.table, ['reference_id', 'rebate_rate', 'fiat_amount_rewarded', 'currency']),
      },
      reward_facts: {
        rows: facts.table.length,
        rewardsWithoutTransaction: facts.withoutTransaction,
        pluPriceNullByNote: facts.pluPriceNullByNote,
        nullRates: nullRates(facts.table, ['merchant', 'plu_price', 'reward_amount', 'effective_reward_rate']),
      },
    },
  };
}

function parseAndClean(
  csvText: string,
  clean: (csv: CsvColumns) => CleaningResult,
  phase: (name: TransformPhase) => void,
): CleaningResult & { raw: { header: string[]; rowCount: number } } {
  const csv = parseCsv(csvText);
  phase('parse');
  const result = clean(csv);
  phase('clean');
  return { ...result, raw: { header: csv.header, rowCount: csv.rowCount } };
}

/** Rejected rows with their original cells and a `reason` column. */
export function rejectsToCsv(header: readonly string[], rejects: readonly RejectedRow[]): string {
  const columns = [...header.filter((name) => name !== 'reason'), 'reason'];
  return formatCsv(
    columns,
    rejects.map((reject) => ({ ...reject.row, reason: reject.reason })),
  );
}

export { CURATED_SCHEMAS };
