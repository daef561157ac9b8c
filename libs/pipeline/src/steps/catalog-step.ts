import type { CuratedDataset } from '@org/rewards-transform';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { noteStepDetails, recordStep } from './step-record';

/** Tells the catalog about this run's new curated partitions. */
export async function catalogStep(context: PipelineContext, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'catalog', async (manifest) => {
    const keys = manifest.steps.transform?.keys ?? {};
    const datasets: CuratedDataset[] = ['transactions', 'rewards', 'reward_facts'];
    await context.catalog.registerPartitions(
      datasets.map((dataset) => ({ dataset, ingestDate: manifest.ingestDate, runId: ref.runId, key: keys[dataset] })),
    );
    noteStepDetails(manifest, 'catalog', { counts: { partitions: datasets.length } });
  });
  return ref;
}
