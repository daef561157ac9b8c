import { LAKE_DATASETS } from '@org/rewards-transform';
import { readCursor, writeCursor, type Cursor } from '../cursor-state';
import { acquireRunLock, lockTakeoverMessage, releaseRunLock } from '../run-lock';
import { objectLayout } from '../object-layout';
import { RebuildRefusedError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import type { LoadResult, ObjectStore, PartitionRef, RunLoad } from '../ports';
import { closeRunManifest, openRunManifest, partsOf, readManifest, writeManifest } from '../run-manifest';
import { noteStepDetails, recordStep } from './step-record';

/** A run whose load committed, with its curated objects: what a rebuild replays. */
export interface LoadedRun {
  runId: string;
  ingestDate: string;
  loadedAt: string;
  parts: RunLoad;
}

/** Runs whose load succeeded (their rows are in the warehouse), in the order they were loaded. */
export async function loadedRuns(store: ObjectStore): Promise<LoadedRun[]> {
  const runIds = (await store.list(objectLayout.runsPrefix))
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => objectLayout.runIdOfRunsKey(key))
    .filter((runId): runId is string => runId !== undefined);
  const runs: LoadedRun[] = [];
  for (const runId of runIds) {
    const manifest = await readManifest(store, runId);
    const load = manifest.steps.load;
    const transform = manifest.steps.transform;
    if (manifest.mode === 'rebuild' || load?.status !== 'succeeded' || !transform || !load.finishedAt) continue;
    const parts = { transactions: partsOf(transform, 'transactions'), rewards: partsOf(transform, 'rewards') };
    runs.push({ runId: manifest.runId, ingestDate: manifest.ingestDate, loadedAt: load.finishedAt, parts });
  }
  return runs.sort((a, b) => (a.loadedAt === b.loadedAt ? (a.runId < b.runId ? -1 : 1) : a.loadedAt < b.loadedAt ? -1 : 1));
}

/**
 * Rebuilds a lost (or suspect) warehouse from the lake: empties it, then replays the curated Parquet of every
 * run whose load committed, in the order they were loaded, with the very load a run does (so the facts come
 * out as they would have), then registers their partitions. Holds the run lock throughout; the incremental
 * cursor is left where it was, since the lake already holds everything it points past.
 */
export async function rebuildStep(
  context: Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'now' | 'onProgress' | 'lockOwner'>,
  ref: RunRef & { allowEmpty?: boolean },
): Promise<RunRef> {
  const now = context.now();
  const manifest = openRunManifest({ runId: ref.runId, mode: 'rebuild', now, cursorBefore: await readCursor(context.store) });
  await writeManifest(context.store, manifest);
  let cursor: Cursor | undefined;
  await recordStep(context, ref.runId, 'rebuild', async (record) => {
    const lock = await acquireRunLock(context.store, ref.runId, now, context.lockOwner);
    if (lock.tookOverFrom) context.onProgress?.({ step: 'rebuild', message: lockTakeoverMessage(lock.tookOverFrom, lock.reason) });
    const runs = await loadedRuns(context.store);
    if (!runs.length && !ref.allowEmpty) {
      // Checked before anything is emptied: replaying nothing over a warehouse that holds rows would lose them all.
      const counts = await context.warehouse.tableCounts();
      const stored = await readCursor(context.store);
      const held = counts.transactions + counts.rewards;
      if (held > 0 || stored.warehouseRows > 0) {
        throw new RebuildRefusedError(
          `No committed run was found under runs/ to rebuild from, but the warehouse holds ${held} rows and the cursor says run ${stored.lastCommittedRunId ?? '(none)'} left ${stored.warehouseRows}. ` +
            'Nothing was changed. Check the data dir (or RUNNER_S3_BUCKET / RUNNER_S3_PREFIX) points at the store the runs were written to; ' +
            'to empty the warehouse on purpose, rebuild with --allow-empty (AWS: {"mode": "rebuild", "allowEmpty": true}).',
        );
      }
    }
    context.onProgress?.({ step: 'rebuild', message: `replaying ${runs.length} loaded run(s) into an empty warehouse` });
    await context.warehouse.reset();
    let result: LoadResult = await context.warehouse.loadRun({ transactions: [], rewards: [] });
    for (const [index, run] of runs.entries()) {
      result = await context.warehouse.loadRun(run.parts);
      context.onProgress?.({
        step: 'rebuild',
        message: `run ${index + 1}/${runs.length} (${run.runId}): ${result.inTable.transactions} transactions, ${result.inTable.rewards} rewards`,
      });
    }
    const partitions: PartitionRef[] = runs.flatMap((run) =>
      LAKE_DATASETS.map((dataset) => ({ dataset, ingestDate: run.ingestDate, runId: run.runId, keys: [...run.parts[dataset]] })),
    );
    if (partitions.length) await context.catalog.registerPartitions(partitions);
    noteStepDetails(record, 'rebuild', {
      counts: {
        runs_replayed: runs.length,
        transactions_in_table: result.inTable.transactions,
        rewards_in_table: result.inTable.rewards,
        reward_facts_in_table: result.inTable.reward_facts,
        facts_without_transaction: result.factsWithoutTransaction,
      },
    });
    const before = await readCursor(context.store);
    cursor = {
      ...before,
      lastCommittedRunId: runs.at(-1)?.runId ?? null,
      warehouseRows: result.inTable.transactions + result.inTable.rewards,
    };
    await writeCursor(context.store, cursor);
  });
  await closeRunManifest(context.store, ref.runId, context.now(), cursor);
  await releaseRunLock(context.store, ref.runId);
  return ref;
}
