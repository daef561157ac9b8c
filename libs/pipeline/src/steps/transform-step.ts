import { transformRun } from '@org/rewards-transform';
import { objectLayout } from '../object-layout';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { noteStepDetails, putTracked, recordStep } from './step-record';

/**
 * Applies the rules to this run's raw files, and only to them: curated Parquet for transactions and rewards,
 * rejects to quarantine, the quality report into the manifest. Its time and memory follow the run's rows;
 * the join to earlier transactions happens in the warehouse, at load.
 */
export async function transformStep(context: PipelineContext, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'transform', async (manifest) => {
    const keys = manifest.steps.extract?.keys;
    if (!keys) throw new Error(`Run ${ref.runId} has no extract output; run extract first.`);
    const text = async (key: string) => Buffer.from(await context.store.get(key)).toString('utf8');
    const output = transformRun({ transactionsCsv: await text(keys['transactions']), rewardsCsv: await text(keys['rewards']) });
    const written: Record<string, string> = {};
    for (const dataset of ['transactions', 'rewards'] as const) {
      const key = objectLayout.curated(dataset, manifest.ingestDate, ref.runId);
      await putTracked(context, manifest, key, output.parquet[dataset], 'application/vnd.apache.parquet');
      written[dataset] = key;
    }
    for (const dataset of ['transactions', 'rewards'] as const) {
      const key = objectLayout.quarantine(dataset, manifest.ingestDate, ref.runId);
      const rejects = output.rejectsCsv[dataset];
      if (rejects) {
        await putTracked(context, manifest, key, rejects, 'text/csv');
        written[`${dataset}_rejects`] = key;
      } else if (await context.store.exists(key)) {
        // A re-run that rejects nothing must not leave an earlier attempt's rejects behind.
        await context.store.delete(key);
      }
    }
    manifest.quality = output.quality;
    noteStepDetails(manifest, 'transform', {
      keys: written,
      counts: {
        transactions: output.quality.transactions.rowsOut,
        rewards: output.quality.rewards.rowsOut,
        transactions_rejected: output.quality.transactions.rejected,
        rewards_rejected: output.quality.rewards.rejected,
      },
    });
    context.onProgress?.({
      step: 'transform',
      rowsIn: output.quality.transactions.rowsIn + output.quality.rewards.rowsIn,
      rowsOut: output.quality.transactions.rowsOut + output.quality.rewards.rowsOut,
    });
  });
  return ref;
}
