import { StepOrderError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { reconcileWarehouse } from '../reconcile';
import { partsOf } from '../run-manifest';
import { readCursor } from '../cursor-state';
import { summarizeDataHealth } from '../data-health';
import { readLakeRuns } from '../lake-runs';
import { noteStepDetails, recordStep } from './step-record';

/**
 * Loads this run into the warehouse in one transaction: both datasets merged by key, the facts of every
 * affected reward derived again, the views refreshed, the load recorded in the warehouse's ledger. First the
 * warehouse is proven against the lake (`reconcileWarehouse`): what it lacks of the committed runs is replayed,
 * damaged facts are derived again, and a warehouse that disagrees otherwise is refused before anything is written.
 */
export async function loadStep(
  context: Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'now' | 'onProgress' | 'maxReplaysPerLoad'>,
  ref: RunRef,
): Promise<RunRef> {
  await recordStep(context, ref.runId, 'load', async (manifest) => {
    const transform = manifest.steps.transform;
    if (transform?.status !== 'succeeded') throw new StepOrderError(`Run ${ref.runId} has no transform output; run transform first.`);
    const reconciled = await reconcileWarehouse(context, { currentRunId: ref.runId, maxReplays: context.maxReplaysPerLoad });
    context.onProgress?.({ step: 'load', message: 'merging transactions and rewards, deriving the affected facts (one transaction)' });
    const result = await context.warehouse.loadRun(
      { transactions: partsOf(transform, 'transactions'), rewards: partsOf(transform, 'rewards') },
      { runId: ref.runId },
    );
    for (const [dataset, rows] of Object.entries(result.inTable)) context.onProgress?.({ step: 'load', dataset, rowsInTable: rows });
    await recordDataHealth(context);
    const loaded = result.ledger?.loaded;
    noteStepDetails(manifest, 'load', {
      counts: {
        transactions_staged: result.staged.transactions,
        rewards_staged: result.staged.rewards,
        transactions_in_table: result.inTable.transactions,
        rewards_in_table: result.inTable.rewards,
        reward_facts_in_table: result.inTable.reward_facts,
        facts_without_transaction: result.factsWithoutTransaction,
        ...(loaded?.transactions ? { transactions_keys_loaded: loaded.transactions.rows } : {}),
        ...(loaded?.rewards ? { rewards_keys_loaded: loaded.rewards.rows } : {}),
        ledger_runs_before: reconciled.ledgerRuns,
        committed_runs_replayed: reconciled.replayed.length,
        facts_rederived: reconciled.factsRederived ? 1 : 0,
        unrecorded_loads_recorded: reconciled.unrecordedLoads.length,
      },
      ...(loaded?.transactions && loaded.rewards
        ? { digests: { transactions: loaded.transactions.digest, rewards: loaded.rewards.digest } }
        : {}),
    });
  });
  return ref;
}

/**
 * The data's health as of this load (failed runs, quarantined rows, the last reconciliation and verification, from
 * the lake's manifests) kept in the warehouse for BI tools that read only it. A manifest that cannot be read leaves
 * the health as the last load kept it, said, and fails nothing: `verify` and `status` report such a manifest.
 */
async function recordDataHealth(context: Pick<PipelineContext, 'store' | 'warehouse' | 'now' | 'onProgress'>): Promise<void> {
  if (!context.warehouse.recordDataHealth) return;
  let health;
  try {
    const { manifests } = await readLakeRuns(context.store);
    health = summarizeDataHealth(manifests, await readCursor(context.store), context.now());
  } catch (error) {
    context.onProgress?.({ step: 'load', message: `data health not kept in the warehouse this time: ${(error as Error).message}` });
    return;
  }
  await context.warehouse.recordDataHealth(health, context.now());
}
