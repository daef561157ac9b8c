import { objectLayout } from './object-layout';
import type { ObjectStore, RunLoad } from './ports';
import { partsOf, readManifest, writeManifest, type RunManifest } from './run-manifest';
import type { LedgerEntry } from './warehouse-ledger';

/** A run whose load committed, with its curated objects: what a rebuild or a replay loads again. */
export interface LoadedRun {
  runId: string;
  ingestDate: string;
  loadedAt: string;
  parts: RunLoad;
}

/** What the lake's manifests say: the runs whose load committed, in load order, and every run with curated Parquet. */
export interface LakeRuns {
  committed: LoadedRun[];
  /** Runs whose transform succeeded (their Parquet is in the lake), committed or not. */
  loadable: Set<string>;
  manifests: RunManifest[];
}

/** Every manifest under `runs/`, in run-id order. */
export async function readManifests(store: ObjectStore): Promise<RunManifest[]> {
  const runIds = (await store.list(objectLayout.runsPrefix))
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => objectLayout.runIdOfRunsKey(key))
    .filter((runId): runId is string => runId !== undefined);
  const manifests: RunManifest[] = [];
  for (const runId of runIds) manifests.push(await readManifest(store, runId));
  return manifests;
}

export async function readLakeRuns(store: ObjectStore): Promise<LakeRuns> {
  const manifests = await readManifests(store);
  const committed: LoadedRun[] = [];
  const loadable = new Set<string>();
  for (const manifest of manifests) {
    const load = manifest.steps.load;
    const transform = manifest.steps.transform;
    if (manifest.mode === 'rebuild' || transform?.status !== 'succeeded') continue;
    loadable.add(manifest.runId);
    if (load?.status !== 'succeeded' || !load.finishedAt) continue;
    const parts = { transactions: partsOf(transform, 'transactions'), rewards: partsOf(transform, 'rewards') };
    committed.push({ runId: manifest.runId, ingestDate: manifest.ingestDate, loadedAt: load.finishedAt, parts });
  }
  committed.sort((a, b) => (a.loadedAt === b.loadedAt ? (a.runId < b.runId ? -1 : 1) : a.loadedAt < b.loadedAt ? -1 : 1));
  return { committed, loadable, manifests };
}

/** Runs whose load succeeded (their rows are in the warehouse), in the order they were loaded. */
export async function loadedRuns(store: ObjectStore): Promise<LoadedRun[]> {
  return (await readLakeRuns(store)).committed;
}

/**
 * Completes the manifest of a run whose load the warehouse committed (its ledger says so) while the process died
 * before the manifest recorded it: the load is marked succeeded at the ledger's instant, with the ledger's figures.
 * The cursor is left where it was: the next incremental run's lookback pulls that window again.
 */
export async function recordLoadFromLedger(store: ObjectStore, entry: LedgerEntry): Promise<LoadedRun> {
  const manifest = await readManifest(store, entry.runId);
  manifest.steps.load = {
    status: 'succeeded',
    startedAt: manifest.steps.load?.startedAt ?? entry.loadedAt,
    finishedAt: entry.loadedAt,
    counts: {
      transactions_in_table: entry.inTable.transactions,
      rewards_in_table: entry.inTable.rewards,
      reward_facts_in_table: entry.inTable.reward_facts,
      recorded_from_ledger: 1,
    },
    ...(entry.loaded.transactions && entry.loaded.rewards
      ? { digests: { transactions: entry.loaded.transactions.digest, rewards: entry.loaded.rewards.digest } }
      : {}),
  };
  await writeManifest(store, manifest);
  const transform = manifest.steps.transform;
  return {
    runId: manifest.runId,
    ingestDate: manifest.ingestDate,
    loadedAt: entry.loadedAt,
    parts: { transactions: partsOf(transform, 'transactions'), rewards: partsOf(transform, 'rewards') },
  };
}
