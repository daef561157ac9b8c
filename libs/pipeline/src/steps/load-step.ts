import { readCursor } from '../cursor-state';
import { StepOrderError, WarehouseLostError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { partsOf } from '../run-manifest';
import { noteStepDetails, recordStep } from './step-record';

/**
 * Loads this run into the warehouse in one transaction: both datasets merged by key, the facts of every
 * affected reward derived again, the views refreshed. Refuses to load into a warehouse that lost what earlier
 * runs committed: a partial warehouse is worse than none.
 */
export async function loadStep(context: Pick<PipelineContext, 'store' | 'warehouse' | 'now' | 'onProgress'>, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'load', async (manifest) => {
    const transform = manifest.steps.transform;
    if (transform?.status !== 'succeeded') throw new StepOrderError(`Run ${ref.runId} has no transform output; run transform first.`);
    const cursor = await readCursor(context.store);
    if (cursor.warehouseRows > 0) {
      const counts = await context.warehouse.tableCounts();
      if (counts.transactions + counts.rewards === 0) {
        throw new WarehouseLostError(
          `The warehouse is empty, but run ${cursor.lastCommittedRunId} left ${cursor.warehouseRows} rows in it. ` +
            'Rebuild it from the lake first: `local-runner rebuild` (or start the state machine with {"mode": "rebuild"}).',
        );
      }
    }
    context.onProgress?.({ step: 'load', message: 'merging transactions and rewards, deriving the affected facts (one transaction)' });
    const result = await context.warehouse.loadRun({
      transactions: partsOf(transform, 'transactions'),
      rewards: partsOf(transform, 'rewards'),
    });
    for (const [dataset, rows] of Object.entries(result.inTable)) context.onProgress?.({ step: 'load', dataset, rowsInTable: rows });
    noteStepDetails(manifest, 'load', {
      counts: {
        transactions_staged: result.staged.transactions,
        rewards_staged: result.staged.rewards,
        transactions_in_table: result.inTable.transactions,
        rewards_in_table: result.inTable.rewards,
        reward_facts_in_table: result.inTable.reward_facts,
        facts_without_transaction: result.factsWithoutTransaction,
      },
    });
  });
  return ref;
}
