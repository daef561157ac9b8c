import type { CuratedDataset } from '@org/rewards-transform';

/** The object layout of ARCHITECTURE.md, in one place. */
export const objectLayout = {
  raw: (dataset: 'transactions' | 'rewards', ingestDate: string, runId: string) =>
    `raw/${dataset}/ingest_date=${ingestDate}/run=${runId}/part-00000.csv`,
  curated: (dataset: CuratedDataset, ingestDate: string, runId: string) =>
    `curated/${dataset}/ingest_date=${ingestDate}/run=${runId}/part-00000.parquet`,
  curatedPrefix: (dataset: CuratedDataset) => `curated/${dataset}/`,
  quarantine: (dataset: 'transactions' | 'rewards', ingestDate: string, runId: string) =>
    `quarantine/${dataset}/ingest_date=${ingestDate}/run=${runId}/rejects.csv`,
  manifest: (runId: string) => `runs/${runId}/manifest.json`,
  runsPrefix: 'runs/',
  cursor: 'state/cursor.json',
  lock: 'state/lock.json',
};

/** `run=<id>` of a key, for ordering runs (ids sort by start time). */
export function runIdOfKey(key: string): string | undefined {
  return /\/run=([^/]+)\//.exec(key)?.[1];
}

/** A run id that sorts by start time (to the millisecond) and is unique for one store: 20261128T153000123Z-a1b2c3. */
export function newRunId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${Math.floor(random() * 0xffffff).toString(16).padStart(6, '0')}`;
}
