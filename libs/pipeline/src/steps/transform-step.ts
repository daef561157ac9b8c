import { StepOrderError } from '../pipeline-errors';
import { LAKE_DATASETS, mergeDatasetQuality, transformDataset, type DatasetQuality, type LakeDataset } from '@org/rewards-transform';
import { objectLayout } from '../object-layout';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { partsOf } from '../run-manifest';
import { noteStepDetails, putTracked, recordStep } from './step-record';

/**
 * Applies the rules to this run's raw files, and only to them, one part at a time: curated Parquet per part,
 * rejects to quarantine, the quality report into the manifest. Its time follows the run's rows and its memory
 * one part's; the join to earlier transactions happens in the warehouse, at load.
 */
export async function transformStep(
  context: Pick<PipelineContext, 'store' | 'now' | 'onProgress' | 'maxTextBytes'>,
  ref: RunRef,
): Promise<RunRef> {
  await recordStep(context, ref.runId, 'transform', async (manifest) => {
    const extract = manifest.steps.extract;
    if (!extract) throw new StepOrderError(`Run ${ref.runId} has no extract output; run extract first.`);
    const parts: Record<string, string[]> = {};
    const quality = {} as Record<LakeDataset, DatasetQuality>;
    for (const dataset of LAKE_DATASETS) {
      const curated: string[] = [];
      const rejects: string[] = [];
      const qualities: DatasetQuality[] = [];
      for (const [index, rawKey] of partsOf(extract, dataset).entries()) {
        const output = transformDataset(dataset, Buffer.from(await context.store.get(rawKey)).toString('utf8'), {
          maxTextBytes: context.maxTextBytes,
        });
        const key = objectLayout.curated(dataset, manifest.ingestDate, ref.runId, index);
        await putTracked(context, manifest, key, output.parquet, 'application/vnd.apache.parquet');
        curated.push(key);
        if (output.rejectsCsv) {
          const rejectsKey = objectLayout.quarantine(dataset, manifest.ingestDate, ref.runId, index);
          await putTracked(context, manifest, rejectsKey, output.rejectsCsv, 'text/csv');
          rejects.push(rejectsKey);
        }
        qualities.push(output.quality);
        context.onProgress?.({ step: 'transform', rowsIn: output.quality.rowsIn, rowsOut: output.quality.rowsOut });
      }
      // A re-run must not leave an earlier attempt's rejects (or parts) behind.
      for (const folder of ['curated', 'quarantine'] as const) {
        const written = new Set([...curated, ...rejects]);
        for (const key of await context.store.list(objectLayout.runFolder(folder, dataset, manifest.ingestDate, ref.runId))) {
          if (!written.has(key)) await context.store.delete(key);
        }
      }
      parts[dataset] = curated;
      parts[`${dataset}_rejects`] = rejects;
      quality[dataset] = mergeDatasetQuality(qualities);
    }
    manifest.quality = quality;
    noteStepDetails(manifest, 'transform', {
      parts,
      counts: {
        transactions: quality.transactions.rowsOut,
        rewards: quality.rewards.rowsOut,
        transactions_rejected: quality.transactions.rejected,
        rewards_rejected: quality.rewards.rejected,
      },
    });
  });
  return ref;
}
