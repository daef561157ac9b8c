import { LAKE_DATASETS } from '@org/rewards-transform';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { partsOf } from '../run-manifest';
import { noteStepDetails, recordStep } from './step-record';

/**
 * Tells the catalog about this run's curated partitions. It runs after the load succeeded, so the catalog
 * never lists a partition the warehouse does not hold.
 */
export async function catalogStep(context: Pick<PipelineContext, 'store' | 'catalog' | 'now'>, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'catalog', async (manifest) => {
    await context.catalog.registerPartitions(
      LAKE_DATASETS.map((dataset) => ({
        dataset,
        ingestDate: manifest.ingestDate,
        runId: ref.runId,
        keys: partsOf(manifest.steps.transform, dataset),
      })),
    );
    noteStepDetails(manifest, 'catalog', { counts: { partitions: LAKE_DATASETS.length } });
  });
  return ref;
}
