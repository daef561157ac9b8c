import type { Table } from './table';
import { formatCsv } from './csv';
import { cleanRewards, cleanTransactions } from './clean-datasets';
import { CURATED_SCHEMAS, REWARD_FACTS_SCHEMA, REWARDS_SCHEMA, TRANSACTIONS_SCHEMA } from './curated-schemas';
import { dedupeLatest, type DedupeResult } from './dedupe';
import type { RawCsvCleaningResult } from './raw-csv-reader';
import { IpcArena } from './arrow-ipc';
import { tableToParquet, type ParquetCompression } from './parquet-output';
import { countReasons, nullRates, type QualityReport } from './quality-report';
import type { RejectedRow } from './raw-cleaning';
import { buildRewardFacts, type RewardFactsResult } from './reward-facts';

export interface TransformInput {
  /** This run's raw transactions CSV (as extract wrote it). */
  transactionsCsv: string;
  /** This run's raw rewards CSV. */
  rewardsCsv: string;
  /**
   * Also build reward_facts from this run's own rows, in memory (the TypeScript definition of the derived
   * columns). The pipeline leaves it off: there the facts are derived in the warehouse, where every earlier
   * transaction already is, for the keys a load touched.
   */
  withFacts?: boolean;
  compression?: ParquetCompression;
  /** Called after each phase (read once per dataset), for progress reporting and benchmarks. */
  onPhase?: (phase: TransformPhase, millis: number) => void;
}

/** `read`: CSV text to typed, validated columns (parsing and cleaning are one pass). */
export type TransformPhase = 'read' | 'dedupe' | 'join' | 'parquet';

export interface TransformOutput {
  /** reward_facts only with `withFacts`. */
  tables: { transactions: Table; rewards: Table; reward_facts?: Table };
  parquet: { transactions: Uint8Array; rewards: Uint8Array; reward_facts?: Uint8Array };
  /** Rejected rows as CSV (original cells + reason), only for datasets with rejects. */
  rejectsCsv: Partial<Record<'transactions' | 'rewards', string>>;
  quality: QualityReport;
}

/**
 * One run of the rules: this run's raw CSV in, curated Parquet + rejects + quality report out. Pure: it reads only what
 * it is handed and returns buffers; where they go is the caller's business.
 */
export function transformRun(input: TransformInput): TransformOutput {
  let mark = performance.now();
  const phase = (name: TransformPhase) => {
    const now = performance.now();
    input.onPhase?.(name, now - mark);
    mark = now;
  };

  const transactions = readAndDedupe(input.transactionsCsv, cleanTransactions, 'transaction_id', undefined, phase);
  const rewards = readAndDedupe(input.rewardsCsv, cleanRewards, 'reward_id', 'updated_at', phase);
  let facts: RewardFactsResult | undefined;
  if (input.withFacts) {
    facts = buildRewardFacts(rewards.table, transactions.table, transactions.index());
    phase('join');
  }

  const compression = input.compression ?? 'snappy';
  // One arena for all the writes, the largest first, so it grows once.
  const arena = new IpcArena();
  const factsParquet = facts && tableToParquet(facts.table, REWARD_FACTS_SCHEMA, compression, arena);
  const parquet: TransformOutput['parquet'] = {
    transactions: tableToParquet(transactions.table, TRANSACTIONS_SCHEMA, compression, arena),
    rewards: tableToParquet(rewards.table, REWARDS_SCHEMA, compression, arena),
    ...(factsParquet ? { reward_facts: factsParquet } : {}),
  };
  phase('parquet');

  const rejectsCsv: TransformOutput['rejectsCsv'] = {};
  if (transactions.rejects.length) rejectsCsv.transactions = rejectsToCsv(transactions.header, transactions.rejects);
  if (rewards.rejects.length) rejectsCsv.rewards = rejectsToCsv(rewards.header, rewards.rejects);

  return {
    tables: { transactions: transactions.table, rewards: rewards.table, ...(facts ? { reward_facts: facts.table } : {}) },
    parquet,
    rejectsCsv,
    quality: {
      transactions: {
        rowsIn: transactions.rowCount,
        rowsOut: transactions.table.length,
        rejected: transactions.rejects.length,
        rejectedByReason: countReasons(transactions.rejects),
        duplicatesRemoved: transactions.duplicatesRemoved,
        nullRates: nullRates(transactions.table, ['description', 'transaction_type', 'is_debit', 'user_id']),
      },
      rewards: {
        rowsIn: rewards.rowCount,
        rowsOut: rewards.table.length,
        rejected: rewards.rejects.length,
        rejectedByReason: countReasons(rewards.rejects),
        duplicatesRemoved: rewards.duplicatesRemoved,
        nullRates: nullRates(rewards.table, ['reference_id', 'rebate_rate', 'fiat_amount_rewarded', 'currency']),
      },
      ...(facts
        ? {
            reward_facts: {
              rows: facts.table.length,
              rewardsWithoutTransaction: facts.withoutTransaction,
              pluPriceNullByNote: facts.pluPriceNullByNote,
              nullRates: nullRates(facts.table, ['merchant', 'plu_price', 'reward_amount', 'effective_reward_rate']),
            },
          }
        : {}),
    },
  };
}

/**
 * Read then de-duplicate one dataset, in a helper so the table before de-duplication (a full copy when there
 * are duplicates) is garbage as soon as the de-duplicated one exists.
 */
function readAndDedupe(
  csvText: string,
  clean: (text: string) => RawCsvCleaningResult,
  key: string,
  version: string | undefined,
  phase: (name: TransformPhase) => void,
): DedupeResult & Omit<RawCsvCleaningResult, 'table'> {
  const { table, rejects, header, rowCount } = clean(csvText);
  phase('read');
  const deduped = dedupeLatest(table, key, version);
  phase('dedupe');
  return { ...deduped, rejects, header, rowCount };
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
