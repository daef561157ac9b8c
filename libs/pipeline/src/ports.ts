import type { DataHealth } from './data-health';
import type { InvalidRow, Reward, RewardsQuery, TransactionsPage, TransactionsQuery } from '@org/plutus-client';
import type { CuratedDataset, DatasetQuality, LakeDataset } from '@org/rewards-transform';
import type { LedgerEntry } from './warehouse-ledger';

/** Whole-object storage: a folder locally, a bucket (under a prefix) in AWS. Keys use `/`. */
export interface ObjectStore {
  /** Writes the whole object (never a partial file). */
  put(key: string, body: Uint8Array | string, options?: { contentType?: string }): Promise<void>;
  /** Writes only when no object exists at `key`; answers whether it wrote. */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean>;
  /** Throws ObjectNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Every key under the prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** Where the warehouse reads the object from: a file path, or an s3:// URL. */
  locate(key: string): string;
}

/** One run's partition of a lake dataset (`ingest_date=.../run=.../`) and its Parquet parts. */
export interface PartitionRef {
  dataset: LakeDataset;
  ingestDate: string;
  runId: string;
  keys: string[];
}

/**
 * The table catalog of the lake (Glue Data Catalog in AWS; DuckDB views locally). The pipeline registers a
 * run's partitions only once its load has succeeded, so the catalog lists what the warehouse holds.
 */
export interface Catalog {
  registerPartitions(partitions: readonly PartitionRef[]): Promise<void>;
  /** The partitions registered, by dataset and run (what `verify` compares with the committed runs). */
  listPartitions(): Promise<{ dataset: LakeDataset; runId: string }[]>;
}

/** The curated Parquet objects of one load, by lake dataset. */
export type RunLoad = Record<LakeDataset, readonly string[]>;

export interface LoadResult {
  /** Rows read from the files, per dataset (before de-duplication). */
  staged: Record<LakeDataset, number>;
  /** Rows in each table after the load. */
  inTable: Record<CuratedDataset, number>;
  /** Facts in the warehouse whose reward has no transaction (yet). */
  factsWithoutTransaction: number;
  /** The load's entry in the warehouse's ledger, when it was given a run id. */
  ledger?: LedgerEntry;
}

/**
 * The warehouse (Redshift in AWS; DuckDB locally), where the current state lives and reward_facts is derived.
 * `loadRun` is one transaction: staging, merge of both datasets, the facts of the affected rewards, the views.
 * Loading the same files again changes nothing.
 */
export interface Warehouse {
  /** With a `runId`, the same transaction records the load in the warehouse's ledger (`warehouse-ledger.ts`). */
  loadRun(load: RunLoad, options?: { runId?: string }): Promise<LoadResult>;
  /**
   * Keeps the data's health (from the lake's manifests) in the warehouse, replacing what an earlier load kept, for
   * BI tools that read only the warehouse. Optional: a warehouse without it shows health on the local page only.
   */
  recordDataHealth?(health: DataHealth, recordedAt: Date): Promise<void>;
  /** The ledger, in load order; empty when the warehouse has none yet. */
  ledger(): Promise<LedgerEntry[]>;
  /** Starts the ledger of a warehouse kept before it existed, as holding every committed run up to `runId`. */
  adoptLedger(runId: string): Promise<void>;
  /** Derives every reward_fact again from the tables, in one transaction; answers the facts' count. */
  rederiveFacts(): Promise<number>;
  /** Transactions per UTC month (`YYYY-MM`) dated up to `through` (inclusive): the lake's side of the source check. */
  transactionMonthCounts(through: string): Promise<Record<string, number>>;
  /** How many transactions are dated before `before`: the cheap count a run compares with the source's. */
  transactionsDatedBefore(before: string): Promise<number>;
  /** The ids of the transactions dated in [from, before). */
  transactionIdsBetween(from: string, before: string): Promise<string[]>;
  /** Rewards per UTC month of `updated_at` before `before`, with the sum of `updated_at` in epoch seconds; `excludeIds` left out. */
  rewardMonthSummary(before: string, excludeIds?: readonly string[]): Promise<RewardMonthSummary>;
  /** The ids of the rewards whose `updated_at` is in [from, before). */
  rewardIdsUpdatedBetween(from: string, before: string): Promise<string[]>;
  /** The accounts (`user_id`) whose transactions the tables hold. */
  accounts(): Promise<string[]>;
  /** Rows per table; 0 for a table that does not exist yet. */
  tableCounts(): Promise<Record<CuratedDataset, number>>;
  /**
   * Each lake dataset's figures per month (`warehouse-months.ts`): as the ledger keeps them (empty where it keeps
   * none), or computed from the tables (a scan of each: `verify --deep`).
   */
  monthFigures(from: 'ledger' | 'tables'): Promise<Record<LakeDataset, MonthFigures>>;
  /** Drops the tables, views and ledger, for a rebuild from the lake. */
  reset(): Promise<void>;
  /**
   * A warehouse where a rebuild can be made beside this one, and the catalog that goes with it, swapped in whole
   * once complete (`swapIn`) or thrown away (`discard`): an interrupted or failed rebuild leaves this warehouse as
   * it was. Without it, a rebuild empties this warehouse and replays into it. A rebuild runs over several tasks
   * (in AWS, a Map over the committed runs): the first starts it afresh, each later one `resume`s what the first
   * began (and `release`s it when done; the staged warehouse is gone only after `swapIn` or `discard`).
   */
  stageRebuild?(options?: { resume?: boolean }): Promise<StagedRebuild>;
}

/** A rebuild being made beside the warehouse it will replace. */
export interface StagedRebuild {
  warehouse: Warehouse;
  /** Where the rebuild registers its partitions, when the catalog lives with the warehouse; else the context's. */
  catalog?: Catalog;
  swapIn(): Promise<void>;
  discard(): Promise<void>;
  /** Lets go of the staged warehouse (its connection), keeping what was built for the next task to resume. */
  release(): Promise<void>;
}

/**
 * The source the pipeline reads: card transactions in pages, and the rewards ledger in batches. The core owns
 * this port; `@org/plutus-client`'s client fits it as it is (and a test double needs only these two calls).
 */
/** Rows per UTC month (`YYYY-MM`) and the sum of their instants in whole epoch seconds. */
export type MonthFigures = Record<string, { rows: number; seconds: number }>;
/** Rewards' figures per UTC month of their change instant (`updated_at`). */
export type RewardMonthSummary = MonthFigures;

export interface RewardsSource {
  transactions(query: TransactionsQuery): AsyncIterable<TransactionsPage>;
  readRewards(
    query: RewardsQuery,
    onRows: (rows: Reward[], details: { invalid: InvalidRow[]; unknownFields: Record<string, number> }) => void | Promise<void>,
    onRestart?: () => void | Promise<void>,
  ): Promise<number>;
}

/** What the rules make of one raw part: its curated Parquet, its rejects (when any) and its quality figures. */
export interface PartTransformOutput {
  parquet: Uint8Array;
  /** Rejected rows as CSV (every original cell, then `_reject_reason`), when there are any. */
  rejectsCsv?: string;
  quality: DatasetQuality;
}

/**
 * Runs the rules (`transformDataset` of `@org/rewards-transform`) on one raw part. The transform step uses one in
 * this process by default; an app may hand it one that runs parts on worker threads, several at once. Either way a
 * part's output is the same bytes, and a part that cannot be transformed fails with the rules' own error.
 */
export interface PartTransformer {
  /** How many parts it transforms at once (the step keeps that many in flight). */
  readonly concurrency: number;
  /**
   * Runs of fewer raw rows in all are transformed in the step's own thread: starting threads would cost them more
   * than it saves (a daily run's few hundred rows, say).
   */
  readonly minRows?: number;
  /** Called when the step has no more parts: threads can stop, so the load that follows has their memory. */
  release?(): Promise<void>;
  transform(dataset: LakeDataset, raw: Uint8Array, options: { maxTextBytes?: number }): Promise<PartTransformOutput>;
}
