import type { CuratedDataset } from '@org/rewards-transform';

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

export interface PartitionRef {
  dataset: CuratedDataset;
  ingestDate: string;
  runId: string;
  key: string;
}

/** The table catalog (Glue Data Catalog in AWS; DuckDB views locally). */
export interface Catalog {
  registerPartitions(partitions: readonly PartitionRef[]): Promise<void>;
}

export interface MergeResult {
  dataset: CuratedDataset;
  rowsStaged: number;
  rowsInTable: number;
}

/** The warehouse (Redshift in AWS; DuckDB locally). Loads are idempotent: staging + MERGE by key. */
export interface Warehouse {
  mergeDataset(dataset: CuratedDataset, objectKeys: readonly string[]): Promise<MergeResult>;
  /** (Re)creates the dashboard's views over the tables, so any SQL client or BI tool can read them. */
  createViews(): Promise<void>;
}

/** The Plutus surface the pipeline reads (the shape of @org/plutus-client's client). */
export type { PlutusClient as RewardsSource } from '@org/plutus-client';
