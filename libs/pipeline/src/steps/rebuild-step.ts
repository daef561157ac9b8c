import { LAKE_DATASETS } from '@org/rewards-transform';
import { readCursor, writeCursor } from '../cursor-state';
import { acquireRunLock, lockTakeoverMessage, refreshRunLock, releaseRunLock } from '../run-lock';
import { RebuildRefusedError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import type { LoadResult, PartitionRef, StagedRebuild, Warehouse } from '../ports';
import { closeRunManifest, openRunManifest, partsOf, readManifest, writeManifest } from '../run-manifest';
import { loadedRuns, type LoadedRun } from '../lake-runs';
import { STATE_MACHINE_LIMITS } from '../service-limits';

/** Committed runs one rebuild task replays: in AWS each task is a Lambda, and ten loads fit its 900 s with room. */
export const REBUILD_RUNS_PER_TASK = 10;

export type RebuildContext = Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'now' | 'onProgress' | 'lockOwner'>;

/** What each task of a rebuild is handed: its phase, and for `runs` the committed runs it replays. */
export interface RebuildInput extends RunRef {
  /** `start` (the default), `runs` (one Map item), `finish`, or `discard` (the failure path). */
  phase?: 'start' | 'runs' | 'finish' | 'discard';
  allowEmpty?: boolean;
  /** `runs`: the committed runs to replay, in load order, and where the first stands among all of them. */
  runs?: string[];
  first?: number;
  total?: number;
  /** `discard`: the failure it cleans up after, handed on to RecordFailure. */
  error?: unknown;
}

/** The start task's answer: the batches of committed runs the Map replays, in order. */
export interface RebuildPlan extends RunRef {
  total: number;
  batches: RebuildInput[];
}

/**
 * Rebuilds a lost (or suspect) warehouse from the lake, replaying the curated Parquet of every run whose load
 * committed, in load order, with the very load a run does (so the facts come out as they would have), then
 * registering their partitions. Where the warehouse can, the new one is made beside the old and swapped in whole at
 * the end, so an interrupted or failed rebuild leaves the old one as it was. It runs as tasks, one Lambda each in
 * AWS (never one for all runs): `start` takes the lock and answers the batches of runs; each `runs` task (a Map
 * item, in order) replays its batch and refreshes the lock; `finish` swaps in, records and frees the lock;
 * `discard` throws the staged warehouse away after a failure. The incremental cursor stays where it was.
 */
export async function rebuildStep(context: RebuildContext, input: RebuildInput): Promise<RebuildPlan | RunRef | RebuildInput> {
  switch (input.phase ?? 'start') {
    case 'start':
      return startRebuild(context, input);
    case 'runs':
      await replayRuns(context, input);
      return { runId: input.runId };
    case 'finish':
      await finishRebuild(context, input);
      return { runId: input.runId };
    case 'discard':
      await (await context.warehouse.stageRebuild?.({ resume: true }).catch(() => undefined))?.discard();
      return input;
  }
  throw new RebuildRefusedError(`Unknown rebuild phase ${JSON.stringify(input.phase)}: start, runs, finish or discard.`);
}

async function startRebuild(context: RebuildContext, input: RebuildInput): Promise<RebuildPlan> {
  const now = context.now();
  const manifest = openRunManifest({ runId: input.runId, mode: 'rebuild', now, cursorBefore: await readCursor(context.store) });
  manifest.steps.rebuild = { status: 'running', startedAt: now.toISOString() };
  await writeManifest(context.store, manifest);
  const lock = await acquireRunLock(context.store, input.runId, now, context.lockOwner);
  if (lock.tookOverFrom) context.onProgress?.({ step: 'rebuild', message: lockTakeoverMessage(lock.tookOverFrom, lock.reason) });
  const runs = await loadedRuns(context.store);
  if (!runs.length && !input.allowEmpty) {
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
  const batches: RebuildInput[] = [];
  for (let first = 0; first < runs.length; first += REBUILD_RUNS_PER_TASK) {
    const batch = runs.slice(first, first + REBUILD_RUNS_PER_TASK).map((run) => run.runId);
    batches.push({ runId: input.runId, phase: 'runs', runs: batch, first, total: runs.length });
  }
  const plan: RebuildPlan = { runId: input.runId, total: runs.length, batches };
  const bytes = Buffer.byteLength(JSON.stringify(plan), 'utf8');
  if (bytes > STATE_MACHINE_LIMITS.payloadBytes) {
    throw new RebuildRefusedError(
      `The rebuild would replay ${runs.length} committed runs, and their list (${bytes} bytes) is over the ${STATE_MACHINE_LIMITS.payloadBytes} bytes Step Functions carries between states. Nothing was changed.`,
    );
  }
  // Beside the old warehouse where the warehouse can (swapped in whole at the end), else in place.
  const staged = await context.warehouse.stageRebuild?.();
  try {
    if (!staged) await context.warehouse.reset();
    // An empty load makes the tables and views, so a rebuild of no runs still leaves a warehouse to read.
    await (staged?.warehouse ?? context.warehouse).loadRun({ transactions: [], rewards: [] });
  } catch (error) {
    await staged?.discard().catch(() => undefined);
    throw error;
  } finally {
    await staged?.release();
  }
  context.onProgress?.({
    step: 'rebuild',
    message: `replaying ${runs.length} loaded run(s) into ${staged ? 'a new warehouse beside the current one (swapped in once complete)' : 'an empty warehouse'}`,
  });
  return plan;
}

/** The committed runs of one batch, replayed in order into the staged warehouse (or the emptied one). */
async function replayRuns(context: RebuildContext, input: RebuildInput): Promise<void> {
  const staged = await context.warehouse.stageRebuild?.({ resume: true });
  const target: Warehouse = staged?.warehouse ?? context.warehouse;
  try {
    for (const [offset, runId] of (input.runs ?? []).entries()) {
      const run = await committedRun(context, runId);
      const result = await target.loadRun(run.parts, { runId: run.runId });
      // A long rebuild keeps its lock fresh, so no scheduled run takes it over as left behind.
      await refreshRunLock(context.store, input.runId, context.now());
      context.onProgress?.({
        step: 'rebuild',
        message: `run ${(input.first ?? 0) + offset + 1}/${input.total ?? input.runs?.length} (${run.runId}): ${result.inTable.transactions} transactions, ${result.inTable.rewards} rewards`,
      });
    }
  } finally {
    await staged?.release();
  }
}

/** A committed run as its manifest records it: refused when the manifest no longer says its load committed. */
async function committedRun(context: RebuildContext, runId: string): Promise<LoadedRun> {
  const manifest = await readManifest(context.store, runId);
  const transform = manifest.steps.transform;
  const load = manifest.steps.load;
  if (transform?.status !== 'succeeded' || load?.status !== 'succeeded' || !load.finishedAt) {
    throw new RebuildRefusedError(
      `Run ${runId} was committed when the rebuild started, but its manifest no longer says so: start the rebuild again.`,
    );
  }
  return {
    runId,
    ingestDate: manifest.ingestDate,
    loadedAt: load.finishedAt,
    parts: { transactions: partsOf(transform, 'transactions'), rewards: partsOf(transform, 'rewards') },
  };
}

/** Registers the partitions, swaps the staged warehouse in, and records the rebuild; frees the lock. */
async function finishRebuild(context: RebuildContext, input: RebuildInput): Promise<void> {
  const runs = await loadedRuns(context.store);
  const staged: StagedRebuild | undefined = await context.warehouse.stageRebuild?.({ resume: true });
  const target = staged?.warehouse ?? context.warehouse;
  let counts: Record<'transactions' | 'rewards' | 'reward_facts', number>;
  let result: LoadResult;
  try {
    // The last load's figures, read again (the tables' counts, and facts without a transaction).
    result = await target.loadRun({ transactions: [], rewards: [] });
    counts = result.inTable;
    const partitions: PartitionRef[] = runs.flatMap((run) =>
      LAKE_DATASETS.map((dataset) => ({ dataset, ingestDate: run.ingestDate, runId: run.runId, keys: [...run.parts[dataset]] })),
    );
    if (partitions.length) await (staged?.catalog ?? context.catalog).registerPartitions(partitions);
    if (staged) {
      await staged.swapIn();
      context.onProgress?.({ step: 'rebuild', message: 'the rebuilt warehouse replaced the old one' });
    }
  } catch (error) {
    await staged?.release().catch(() => undefined);
    throw error;
  }
  const manifest = await readManifest(context.store, input.runId);
  const started = manifest.steps.rebuild?.startedAt ?? manifest.startedAt;
  const finished = context.now();
  manifest.steps.rebuild = {
    status: 'succeeded',
    startedAt: started,
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - Date.parse(started),
    counts: {
      runs_replayed: runs.length,
      transactions_in_table: counts.transactions,
      rewards_in_table: counts.rewards,
      reward_facts_in_table: counts.reward_facts,
      facts_without_transaction: result.factsWithoutTransaction,
    },
  };
  await writeManifest(context.store, manifest);
  const cursor = {
    ...(await readCursor(context.store)),
    lastCommittedRunId: runs.at(-1)?.runId ?? null,
    warehouseRows: counts.transactions + counts.rewards,
  };
  await writeCursor(context.store, cursor);
  await closeRunManifest(context.store, input.runId, context.now(), cursor);
  await releaseRunLock(context.store, input.runId);
}
