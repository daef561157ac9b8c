import type { LakeDataset } from '@org/rewards-transform';

const part = (index: number) => String(index).padStart(5, '0');

/**
 * The object layout, in one place (docs/ARCHITECTURE.md describes it with the run ids). A run's rows come in parts (a bounded number of rows each), so no step
 * ever holds a whole first load in memory:
 *   raw/{dataset}/ingest_date=YYYY-MM-DD/run={runId}/part-NNNNN.csv
 *   curated/{dataset}/ingest_date=YYYY-MM-DD/run={runId}/part-NNNNN.parquet
 *   quarantine/{dataset}/ingest_date=YYYY-MM-DD/run={runId}/rejects-NNNNN.csv   (every original cell + _reject_reason)
 *   runs/{runId}/manifest.json, state/cursor.json, state/lock.json
 */
export const objectLayout = {
  raw: (dataset: LakeDataset, ingestDate: string, runId: string, index = 0) =>
    `raw/${dataset}/ingest_date=${ingestDate}/run=${runId}/part-${part(index)}.csv`,
  curated: (dataset: LakeDataset, ingestDate: string, runId: string, index = 0) =>
    `curated/${dataset}/ingest_date=${ingestDate}/run=${runId}/part-${part(index)}.parquet`,
  curatedPrefix: (dataset: LakeDataset) => `curated/${dataset}/`,
  quarantine: (dataset: LakeDataset, ingestDate: string, runId: string, index = 0) =>
    `quarantine/${dataset}/ingest_date=${ingestDate}/run=${runId}/rejects-${part(index)}.csv`,
  /** The folder of one run's objects of one kind (raw, curated or quarantine) and dataset. */
  runFolder: (kind: 'raw' | 'curated' | 'quarantine', dataset: LakeDataset, ingestDate: string, runId: string) =>
    `${kind}/${dataset}/ingest_date=${ingestDate}/run=${runId}/`,
  manifest: (runId: string) => `runs/${runId}/manifest.json`,
  /** The run id of a key under `runs/` (its manifest's, or any other object of the run's), or undefined. */
  runIdOfRunsKey: (key: string): string | undefined => /^runs\/([^/]+)\//.exec(key)?.[1],
  /** The id of a backfill's month run: `<runId>-YYYY-MM`. */
  chunkRunId: (runId: string, month: string) => `${runId}-${month}`,
  /** Whether `id` is the run `runId` itself or one of its backfill months. */
  isRunOrChunk: (id: string, runId: string) => id === runId || (id.startsWith(runId) && /^-\d{4}-\d{2}$/.test(id.slice(runId.length))),
  runsPrefix: 'runs/',
  cursor: 'state/cursor.json',
  lock: 'state/lock.json',
  /** Lake-against-source differences a user acknowledged (`verify --accept`). */
  acceptedDifferences: 'state/accepted-differences.json',
  /** Months a run pulled again after the source check found them short, with the source's count then. */
  repulledMonths: 'state/repulled-months.json',
};

/** `run=<id>` of a key, for ordering runs (ids sort by start time). */
export function runIdOfKey(key: string): string | undefined {
  return /\/run=([^/]+)\//.exec(key)?.[1];
}

/**
 * A run id that sorts by start time (to the millisecond) and is unique for one store: 20261128T153000123Z-a1b2c3.
 * No `:`, so it is safe in S3 keys, Hive partition values and file names (docs/ARCHITECTURE.md, "Run ids").
 */
export function newRunId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
}
