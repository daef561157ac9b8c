import { LAKE_DATASETS } from '@org/rewards-transform';
import { readCursor, writeCursor, type Cursor } from '../cursor-state';
import { acquireRunLock, lockTakeoverMessage, refreshRunLock, releaseRunLock } from '../run-lock';
import { RebuildRefusedError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import type { LoadResult, PartitionRef } from '../ports';
import { closeRunManifest, openRunManifest, writeManifest } from '../run-manifest';
import { loadedRuns } from '../lake-runs';
import { noteStepDetails, recordStep } from './step-record';

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
    // Beside the old warehouse where the warehouse can (swapped in whole at the end), else in place.
    const staged = await context.warehouse.stageRebuild?.();
    const target = staged?.warehouse ?? context.warehouse;
    context.onProgress?.({
      step: 'rebuild',
      message: `replaying ${runs.length} loaded run(s) into ${staged ? 'a new warehouse beside the current one (swapped in once complete)' : 'an empty warehouse'}`,
    });
    let result: LoadResult;
    try {
      if (!staged) await context.warehouse.reset();
      result = await target.loadRun({ transactions: [], rewards: [] });
      for (const [index, run] of runs.entries()) {
        result = await target.loadRun(run.parts, { runId: run.runId });
        // A long rebuild keeps its lock fresh, so no scheduled run takes it over as left behind.
        await refreshRunLock(context.store, ref.runId, context.now());
        context.onProgress?.({
          step: 'rebuild',
          message: `run ${index + 1}/${runs.length} (${run.runId}): ${result.inTable.transactions} transactions, ${result.inTable.rewards} rewards`,
        });
      }
      const partitions: PartitionRef[] = runs.flatMap((run) =>
        LAKE_DATASETS.map((dataset) => ({ dataset, ingestDate: run.ingestDate, runId: run.runId, keys: [...run.parts[dataset]] })),
      );
      if (partitions.length) await (staged?.catalog ?? context.catalog).registerPartitions(partitions);
      if (staged) {
        await staged.swapIn();
        context.onProgress?.({ step: 'rebuild', message: 'the rebuilt warehouse replaced the old one' });
      }
    } catch (error) {
      // The old warehouse is left as it was; what was built beside it is thrown away.
      await staged?.discard().catch(() => undefined);
      throw error;
    }
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
