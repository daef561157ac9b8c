import { refreshRunLock } from './run-lock';
import { LAKE_DATASETS, type CuratedDataset } from '@org/rewards-transform';
import type { Cursor } from './cursor-state';
import { ReplayFailedError, WarehouseDisagreesError, WarehouseLostError } from './pipeline-errors';
import type { PipelineContext } from './pipeline-context';
import { readCursor } from './cursor-state';
import { readLakeRuns, recordLoadFromLedger, type LoadedRun } from './lake-runs';
import type { LedgerEntry } from './warehouse-ledger';

/**
 * What the warehouse holds against what the lake says it should: the warehouse's ledger (`warehouse-ledger.ts`)
 * and its tables' row counts, against the committed runs' manifests. Pure: `reconcileWarehouse` reads the inputs
 * and acts on the answer.
 */
export interface WarehouseComparison {
  /** Differences no repair can close safely: the run is refused, naming `rebuild`. */
  problems: string[];
  /** Committed runs the warehouse lacks, all after those it holds (a backup restored, commits lost): replayed in order. */
  replay: LoadedRun[];
  /** The tables agree with the ledger but `reward_facts` does not: derived again from the tables. */
  rederiveFacts: boolean;
  /** A warehouse of an earlier version (no ledger) whose rows agree with the cursor: adopted at this run. */
  adopt?: string;
  /** Runs in the ledger whose manifests never recorded the load (a crash between the two): the manifests are completed. */
  unrecordedLoads: LedgerEntry[];
  /** Empty, no ledger, while the cursor says rows were loaded: the warehouse is gone (WarehouseLostError). */
  lost: boolean;
}

export interface ComparisonInput {
  committed: readonly LoadedRun[];
  /** Runs whose transform succeeded (their Parquet is in the lake), committed or not. */
  loadable: ReadonlySet<string>;
  ledger: readonly LedgerEntry[];
  counts: Record<CuratedDataset, number>;
  cursor: Cursor;
  /** The run being loaded now, which may already be in the ledger (its load committed, then the process died). */
  currentRunId?: string;
}

export function compareWarehouseWithLake(input: ComparisonInput): WarehouseComparison {
  const { committed, ledger, counts, cursor } = input;
  const result: WarehouseComparison = { problems: [], replay: [], rederiveFacts: false, unrecordedLoads: [], lost: false };
  const held = counts.transactions + counts.rewards;
  if (!ledger.length) {
    if (held === 0 && counts.reward_facts === 0) {
      if (cursor.warehouseRows > 0) result.lost = true;
      else result.replay = [...committed];
      return result;
    }
    const last = committed.at(-1);
    if (last && cursor.lastCommittedRunId === last.runId && cursor.warehouseRows === held) result.adopt = last.runId;
    else
      result.problems.push(
        `the warehouse holds ${held} rows but no ledger, and they do not match the last committed run ` +
          `(${last?.runId ?? 'none'}; the cursor says ${cursor.warehouseRows} rows after ${cursor.lastCommittedRunId ?? 'none'})`,
      );
    return result;
  }

  const last = ledger[ledger.length - 1];
  for (const dataset of ['transactions', 'rewards'] as const) {
    if (counts[dataset] !== last.inTable[dataset])
      result.problems.push(
        `${dataset}: ${counts[dataset]} rows in the table, but its ledger recorded ${last.inTable[dataset]} after its last load (run ${last.runId}): rows were changed outside the pipeline`,
      );
  }
  if (!result.problems.length && counts.reward_facts !== last.inTable.reward_facts) result.rederiveFacts = true;

  const position = new Map(committed.map((run, index) => [run.runId, index]));
  let lastCovered = -1;
  const covered = new Set<string>();
  for (const entry of ledger) {
    const at = position.get(entry.runId);
    if (at !== undefined) {
      covered.add(entry.runId);
      if (entry.coversEarlier) for (const run of committed.slice(0, at)) covered.add(run.runId);
      lastCovered = Math.max(lastCovered, at);
    } else if (entry.runId === input.currentRunId) {
      continue;
    } else if (input.loadable.has(entry.runId)) {
      result.unrecordedLoads.push(entry);
    } else {
      result.problems.push(
        `the warehouse holds run ${entry.runId}, which the lake has no committed run of (another store's warehouse, or runs/ edited)`,
      );
    }
  }
  const missing = committed.filter((run) => !covered.has(run.runId));
  if (missing.length) {
    if (missing.every((run) => (position.get(run.runId) as number) > lastCovered)) result.replay = missing;
    else {
      const early = missing.filter((run) => (position.get(run.runId) as number) < lastCovered).map((run) => run.runId);
      result.problems.push(
        `committed run(s) ${early.slice(0, 5).join(', ')}${early.length > 5 ? ` and ${early.length - 5} more` : ''} are not in the warehouse, though later ones are`,
      );
    }
  }
  return result;
}

export interface ReconcileReport {
  /** Committed runs the warehouse holds according to its ledger, before any repair. */
  ledgerRuns: number;
  replayed: string[];
  factsRederived: boolean;
  adopted?: string;
  unrecordedLoads: string[];
}

/**
 * Proves the warehouse against the lake before a load, and repairs what it safely can: replays the committed runs
 * a restored or rolled-back warehouse lacks (at most `maxReplays`), derives `reward_facts` again when only it
 * is damaged, completes manifests whose load committed unrecorded, adopts a warehouse of an earlier version.
 * Anything else is refused (WarehouseDisagreesError, naming `rebuild`) before anything is written.
 */
export async function reconcileWarehouse(
  context: Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'now' | 'onProgress'>,
  options: { currentRunId?: string; maxReplays?: number } = {},
): Promise<ReconcileReport> {
  const { committed, loadable } = await readLakeRuns(context.store);
  const [ledger, counts, cursor] = [
    await context.warehouse.ledger(),
    await context.warehouse.tableCounts(),
    await readCursor(context.store),
  ];
  const comparison = compareWarehouseWithLake({ committed, loadable, ledger, counts, cursor, currentRunId: options.currentRunId });
  if (comparison.lost) {
    throw new WarehouseLostError(
      `The warehouse is empty, but run ${cursor.lastCommittedRunId} left ${cursor.warehouseRows} rows in it. ` +
        'Rebuild it from the lake first: `local-runner rebuild` (or start the state machine with {"mode": "rebuild"}).',
    );
  }
  const maxReplays = options.maxReplays ?? Number.POSITIVE_INFINITY;
  if (comparison.replay.length > maxReplays) {
    comparison.problems.push(
      `${comparison.replay.length} committed runs are missing from the warehouse, more than the ${maxReplays} a load replays`,
    );
  }
  if (comparison.problems.length) {
    throw new WarehouseDisagreesError(
      `The warehouse disagrees with the lake: ${comparison.problems.join('; ')}. Nothing was loaded. ` +
        'Rebuild it from the lake: `local-runner rebuild` (or start the state machine with {"mode": "rebuild"}); `local-runner verify` reports every check.',
    );
  }
  for (const entry of comparison.unrecordedLoads) {
    const run = await recordLoadFromLedger(context.store, entry);
    // Its catalog step never ran: the partitions of a loaded run are registered, as the catalog step would have.
    await context.catalog.registerPartitions(
      LAKE_DATASETS.map((dataset) => ({ dataset, ingestDate: run.ingestDate, runId: run.runId, keys: [...run.parts[dataset]] })),
    );
    context.onProgress?.({
      step: 'reconcile',
      message: `run ${entry.runId}: its load committed but its manifest never said so (a crash between the two); recorded from the warehouse's ledger`,
    });
  }
  if (comparison.adopt) {
    await context.warehouse.adoptLedger(comparison.adopt);
    context.onProgress?.({
      step: 'reconcile',
      message: `the warehouse had no ledger; its rows agree with the cursor, so it now starts one`,
    });
  }
  if (comparison.rederiveFacts) {
    const before = counts.reward_facts;
    const after = await context.warehouse.rederiveFacts();
    context.onProgress?.({
      step: 'reconcile',
      message: `reward_facts had ${before} rows where its ledger recorded ${ledger.at(-1)?.inTable.reward_facts}: derived again from the tables (${after} rows)`,
    });
  }
  for (const [index, run] of comparison.replay.entries()) {
    context.onProgress?.({
      step: 'reconcile',
      message: `replaying committed run ${index + 1}/${comparison.replay.length} (${run.runId}) that the warehouse lacks (a restored backup, or commits lost)`,
    });
    try {
      await context.warehouse.loadRun(run.parts, { runId: run.runId });
      if (options.currentRunId) await refreshRunLock(context.store, options.currentRunId, context.now());
    } catch (error) {
      throw new ReplayFailedError(
        `Replaying committed run ${run.runId} into the warehouse failed (${(error as Error).message.split('\n')[0]}); the warehouse keeps the runs before it, and nothing of this run was loaded. ` +
          'If the lake lost objects of that run, `local-runner verify --deep` names them: restore them, then run again.',
        { cause: error },
      );
    }
  }
  // The catalog may have been restored with the warehouse (locally it lives in the same file): the replayed runs'
  // partitions are registered again, as their loads are committed once more.
  if (comparison.replay.length)
    await context.catalog.registerPartitions(
      comparison.replay.flatMap((run) =>
        LAKE_DATASETS.map((dataset) => ({ dataset, ingestDate: run.ingestDate, runId: run.runId, keys: [...run.parts[dataset]] })),
      ),
    );
  return {
    ledgerRuns: ledger.length,
    replayed: comparison.replay.map((run) => run.runId),
    factsRederived: comparison.rederiveFacts,
    ...(comparison.adopt ? { adopted: comparison.adopt } : {}),
    unrecordedLoads: comparison.unrecordedLoads.map((entry) => entry.runId),
  };
}
