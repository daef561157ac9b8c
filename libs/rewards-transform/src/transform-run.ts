import { sliceRows, type Table } from './engine/table';
import { formatCsv } from './engine/csv';
import { cleanRewards, cleanTransactions } from './rules/clean-datasets';
import { CURATED_SCHEMAS, REWARD_FACTS_SCHEMA, REWARDS_SCHEMA, TRANSACTIONS_SCHEMA, type LakeDataset } from './rules/curated-schemas';
import { dedupeDataset, type DedupeResult } from './rules/dedupe';
import type { RawCsvCleaningResult } from './engine/raw-csv-reader';
import { IpcArena } from './engine/arrow-ipc';
import { tableToParquet, type ParquetCompression } from './engine/parquet-output';
import { PARQUET_THREAD_MIN_ROWS, ParquetThread } from './engine/parquet-thread';
import type { ColumnSpec } from './engine/table';
import { countReasons, nullRates, type DatasetQuality, type QualityReport } from './rules/quality-report';
import type { CleaningOptions, RejectedRow } from './rules/raw-cleaning';
import { buildRewardFacts, rewardFactsBuilder, type RewardFactsResult } from './rules/reward-facts';

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
  /** The longest text the rows' destination holds, in UTF-8 bytes: longer values are quarantined. */
  maxTextBytes?: number;
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

  const compression = input.compression ?? 'snappy';
  // Large tables are written on another thread while this one goes on (see ParquetThread); small ones here.
  let thread: ParquetThread | undefined;
  let threadOpened = false;
  // A thread for this table if it is large enough (opened for the first such table, where the machine allows one).
  const threadFor = (rows: number): ParquetThread | undefined => {
    if (rows < PARQUET_THREAD_MIN_ROWS) return undefined;
    if (!threadOpened) [thread, threadOpened] = [ParquetThread.open(), true];
    return thread;
  };
  try {
    // The rewards first: their Parquet, the larger, is written while the transactions are read, and the
    // transactions' while the facts are derived, so the writing thread waits least for the tables it writes.
    const rewards = readAndDedupe(input.rewardsCsv, 'rewards', phase, input);
    const rewardsWrite = threadFor(rewards.table.length)?.write(rewards.table, REWARDS_SCHEMA, compression);
    if (rewardsWrite !== undefined) phase('parquet');
    // With a thread at hand (or text enough to want one), the transactions' rows go to it as they are read.
    const readingThread =
      thread ?? (input.transactionsCsv.length >= STREAMED_READ_MIN_CHARS ? threadFor(PARQUET_THREAD_MIN_ROWS) : undefined);
    let transactions: ReturnType<typeof readAndDedupe>;
    let transactionsWrite: number | undefined;
    if (readingThread) {
      [transactions, transactionsWrite] = readTransactionsToThread(input.transactionsCsv, readingThread, compression, phase, input);
    } else {
      transactions = readAndDedupe(input.transactionsCsv, 'transactions', phase, input);
      transactionsWrite = threadFor(transactions.table.length)?.write(transactions.table, TRANSACTIONS_SCHEMA, compression);
    }
    if (transactionsWrite !== undefined) phase('parquet');
    let facts: RewardFactsResult | undefined;
    let factsWrite: number | undefined;
    if (input.withFacts) {
      const factsThread = threadFor(rewards.table.length);
      if (factsThread) {
        // The facts are derived a row group at a time, each written while the next is derived.
        const builder = rewardFactsBuilder(rewards.table, transactions.table, transactions.index());
        let joinMs = 0;
        factsWrite = factsThread.write(builder.table, REWARD_FACTS_SCHEMA, compression, (from, to) => {
          const started = performance.now();
          builder.fill(from, to);
          joinMs += performance.now() - started;
        });
        facts = builder.result();
        const now = performance.now();
        input.onPhase?.('join', joinMs);
        input.onPhase?.('parquet', now - mark - joinMs);
        mark = now;
      } else {
        facts = buildRewardFacts(rewards.table, transactions.table, transactions.index());
        phase('join');
      }
    }

    // One arena for the writes here, the largest first, so it grows once.
    const arena = new IpcArena();
    const here = (table: Table, schema: readonly ColumnSpec[]) => tableToParquet(table, schema, compression, arena);
    const factsParquet = facts && (factsWrite === undefined ? here(facts.table, REWARD_FACTS_SCHEMA) : undefined);
    const rewardsParquet = rewardsWrite === undefined ? here(rewards.table, REWARDS_SCHEMA) : undefined;
    const transactionsParquet = transactionsWrite === undefined ? here(transactions.table, TRANSACTIONS_SCHEMA) : undefined;
    const parquet: TransformOutput['parquet'] = {
      transactions: transactionsParquet ?? (thread as ParquetThread).take(transactionsWrite as number),
      rewards: rewardsParquet ?? (thread as ParquetThread).take(rewardsWrite as number),
      ...(facts ? { reward_facts: factsParquet ?? (thread as ParquetThread).take(factsWrite as number) } : {}),
    };
    phase('parquet');
    return assemble(transactions, rewards, facts, parquet);
  } finally {
    thread?.close();
  }
}

function assemble(
  transactions: ReturnType<typeof readAndDedupe>,
  rewards: ReturnType<typeof readAndDedupe>,
  facts: RewardFactsResult | undefined,
  parquet: TransformOutput['parquet'],
): TransformOutput {
  const rejectsCsv: TransformOutput['rejectsCsv'] = {};
  if (transactions.rejects.length) rejectsCsv.transactions = rejectsToCsv(transactions.header, transactions.rejects);
  if (rewards.rejects.length) rejectsCsv.rewards = rejectsToCsv(rewards.header, rewards.rejects);

  return {
    tables: { transactions: transactions.table, rewards: rewards.table, ...(facts ? { reward_facts: facts.table } : {}) },
    parquet,
    rejectsCsv,
    quality: {
      transactions: datasetQuality('transactions', transactions),
      rewards: datasetQuality('rewards', rewards),
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

/** Columns whose null share the quality report gives, per lake dataset. */
const NULL_RATE_COLUMNS: Record<LakeDataset, readonly string[]> = {
  transactions: ['description', 'transaction_type', 'is_debit', 'user_id'],
  rewards: ['reference_id', 'rebate_rate', 'fiat_amount_rewarded', 'currency'],
};

function datasetQuality(dataset: LakeDataset, read: ReturnType<typeof readAndDedupe>): DatasetQuality {
  return {
    rowsIn: read.rowCount,
    rowsOut: read.table.length,
    rejected: read.rejects.length,
    rejectedByReason: countReasons(read.rejects),
    duplicatesRemoved: read.duplicatesRemoved,
    nullRates: nullRates(read.table, NULL_RATE_COLUMNS[dataset]),
  };
}

export interface DatasetOutput {
  table: Table;
  parquet: Uint8Array;
  /** Rejected rows as CSV (original cells + reason), when there are any. */
  rejectsCsv?: string;
  quality: DatasetQuality;
}

/**
 * The rules for one dataset's raw CSV (one part of a run): typed, de-duplicated, Parquet, rejects, quality.
 * A long run's raw files come in parts, transformed one at a time, so memory follows the part, not the run.
 */
export function transformDataset(
  dataset: LakeDataset,
  csvText: string,
  options: { compression?: ParquetCompression; arena?: IpcArena } & CleaningOptions = {},
): DatasetOutput {
  const read = readAndDedupe(csvText, dataset, () => undefined, options);
  const parquet = tableToParquet(read.table, CURATED_SCHEMAS[dataset], options.compression ?? 'snappy', options.arena);
  return {
    table: read.table,
    parquet,
    ...(read.rejects.length ? { rejectsCsv: rejectsToCsv(read.header, read.rejects) } : {}),
    quality: datasetQuality(dataset, read),
  };
}

/** One quality figure for a dataset read in several parts: counts added, null shares weighted by rows. */
export function mergeDatasetQuality(parts: readonly DatasetQuality[]): DatasetQuality {
  const merged: DatasetQuality = { rowsIn: 0, rowsOut: 0, rejected: 0, rejectedByReason: {}, duplicatesRemoved: 0, nullRates: {} };
  const nulls: Record<string, number> = {};
  for (const part of parts) {
    merged.rowsIn += part.rowsIn;
    merged.rowsOut += part.rowsOut;
    merged.rejected += part.rejected;
    merged.duplicatesRemoved += part.duplicatesRemoved;
    for (const [reason, n] of Object.entries(part.rejectedByReason))
      merged.rejectedByReason[reason] = (merged.rejectedByReason[reason] ?? 0) + n;
    for (const [column, rate] of Object.entries(part.nullRates)) nulls[column] = (nulls[column] ?? 0) + rate * part.rowsOut;
  }
  for (const [column, n] of Object.entries(nulls))
    merged.nullRates[column] = merged.rowsOut === 0 ? 0 : Math.round((n / merged.rowsOut) * 10_000) / 10_000;
  return merged;
}

/**
 * Read then de-duplicate one dataset, in a helper so the table before de-duplication (a full copy when there
 * are duplicates) is garbage as soon as the de-duplicated one exists.
 */
function readAndDedupe(
  csvText: string,
  dataset: LakeDataset,
  phase: (name: TransformPhase) => void,
  options: CleaningOptions,
): DedupeResult & Omit<RawCsvCleaningResult, 'table'> {
  const clean: Record<LakeDataset, (text: string, options: CleaningOptions) => RawCsvCleaningResult> = {
    transactions: cleanTransactions,
    rewards: cleanRewards,
  };
  const { table, rejects, header, rowCount } = clean[dataset](csvText, { maxTextBytes: options.maxTextBytes });
  phase('read');
  // The read table is this function's own: its kept rows are moved up, not copied.
  const deduped = dedupeDataset(table, dataset, { inPlace: true });
  phase('dedupe');
  return { ...deduped, rejects, header, rowCount };
}

/** Transactions text this long holds enough rows (a few hundred thousand) to be worth the Parquet thread. */
const STREAMED_READ_MIN_CHARS = 32 * 2 ** 20;

/**
 * The transactions read with their rows sent to the Parquet thread as they are read, so the thread, which would
 * otherwise wait for the whole table, writes them while the rest is read. The rows sent are the table only when
 * de-duplication removes none (it keeps the order of the rows it keeps, and a source seldom repeats a
 * transaction within a run); otherwise that write is dropped and the de-duplicated table is sent again.
 */
function readTransactionsToThread(
  csvText: string,
  thread: ParquetThread,
  compression: ParquetCompression,
  phase: (name: TransformPhase) => void,
  options: CleaningOptions,
): [ReturnType<typeof readAndDedupe>, number] {
  const write = thread.begin(TRANSACTIONS_SCHEMA, compression);
  let rowsSent = 0;
  const { table, rejects, header, rowCount } = cleanTransactions(csvText, { maxTextBytes: options.maxTextBytes }, (rows) => {
    thread.send(write, rows);
    rowsSent += rows.length;
  });
  phase('read');
  // Rows the reader did not hand over as it went (a text it read by the general road): sent now.
  if (rowsSent < table.length) thread.send(write, sliceRows(table, rowsSent, table.length));
  const deduped = dedupeDataset(table, 'transactions', { inPlace: true });
  phase('dedupe');
  const read = { ...deduped, rejects, header, rowCount };
  if (deduped.duplicatesRemoved === 0) {
    thread.end(write);
    return [read, write];
  }
  thread.abandon(write);
  return [read, thread.write(deduped.table, TRANSACTIONS_SCHEMA, compression)];
}

/**
 * The column a reject file adds for why the row was quarantined. Its own name, so a raw column of the source (the
 * rewards' own `reason`, "Rejected by admin") is kept as it came.
 */
export const REJECT_REASON_COLUMN = '_reject_reason';

/** Rejected rows with every original cell, and `REJECT_REASON_COLUMN` after them. */
export function rejectsToCsv(header: readonly string[], rejects: readonly RejectedRow[]): string {
  return formatCsv(
    [...header, REJECT_REASON_COLUMN],
    rejects.map((reject) => ({ ...reject.row, [REJECT_REASON_COLUMN]: reject.reason })),
  );
}

export { CURATED_SCHEMAS };
