import type { CuratedDataset } from '@org/rewards-transform';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { noteStepDetails, recordStep } from './step-record';

/** Merges this run's curated datasets into the warehouse (idempotent: staging + MERGE by key), then refreshes the views. */
export async function loadStep(context: PipelineContext, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'load', async (manifest) => {
    const keys = manifest.steps.transform?.keys ?? {};
    const counts: Record<string, number> = {};
    for (const dataset of ['transactions', 'rewards', 'reward_facts'] as CuratedDataset[]) {
      const result = await context.warehouse.mergeDataset(dataset, [keys[dataset]]);
      counts[`${dataset}_staged`] = result.rowsStaged;
      counts[`${dataset}_in_table`] = result.rowsInTable;
      context.onProgress?.({ step: 'load', dataset, rowsInTable: result.rowsInTable });
    }
    await context.warehouse.createViews();
    noteStepDetails(manifest, 'load', { counts });
  });
  return ref;
}
