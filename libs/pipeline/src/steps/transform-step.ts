import { StepOrderError } from '../pipeline-errors';
import { LAKE_DATASETS, mergeDatasetQuality, transformDataset, type LakeDataset } from '@org/rewards-transform';
import { objectLayout } from '../object-layout';
import type { PipelineContext, RunRef } from '../pipeline-context';
import type { PartTransformer, PartTransformOutput } from '../ports';
import { partsOf, type RunManifest } from '../run-manifest';
import { noteStepDetails, putTracked, recordStep } from './step-record';

/** The rules in this process, one part at a time. */
export const IN_PROCESS_PART_TRANSFORMER: PartTransformer = {
  concurrency: 1,
  transform: async (dataset, raw, options) => {
    const { parquet, rejectsCsv, quality } = transformDataset(dataset, Buffer.from(raw).toString('utf8'), options);
    return { parquet, quality, ...(rejectsCsv ? { rejectsCsv } : {}) };
  },
};

interface PartJob {
  dataset: LakeDataset;
  index: number;
  rawKey: string;
}

interface PartDone {
  curatedKey: string;
  rejectsKey?: string;
  output: PartTransformOutput;
}

/**
 * Applies the rules to this run's raw files, and only to them, one part at a time or, with a `partTransformer`
 * that runs several, that many parts at once: curated Parquet per part, rejects to quarantine, the quality report
 * into the manifest. Its time follows the run's rows and its memory the parts in flight; the join to earlier
 * transactions happens in the warehouse, at load. Parts keep their numbers whatever order they finish in.
 */
export async function transformStep(
  context: Pick<PipelineContext, 'store' | 'now' | 'onProgress' | 'maxTextBytes' | 'partTransformer'>,
  ref: RunRef,
): Promise<RunRef> {
  await recordStep(context, ref.runId, 'transform', async (manifest) => {
    const extract = manifest.steps.extract;
    if (!extract) throw new StepOrderError(`Run ${ref.runId} has no extract output; run extract first.`);
    const jobs: PartJob[] = LAKE_DATASETS.flatMap((dataset) =>
      partsOf(extract, dataset).map((rawKey, index) => ({ dataset, index, rawKey })),
    );
    // A single part, or a run too small to pay for the transformer's threads, stays in this thread.
    const rows = (extract.counts?.['transactions'] ?? 0) + (extract.counts?.['rewards'] ?? 0);
    const offered = context.partTransformer;
    const transformer = offered && jobs.length > 1 && rows >= (offered.minRows ?? 0) ? offered : IN_PROCESS_PART_TRANSFORMER;
    const threads = Math.max(1, Math.min(jobs.length, transformer.concurrency));
    let done: PartDone[];
    try {
      done = await runBounded(jobs, threads, (job) => transformPart(context, manifest, ref, transformer, job));
    } finally {
      await transformer.release?.();
    }

    const parts: Record<string, string[]> = {};
    const quality = {} as NonNullable<RunManifest['quality']>;
    for (const dataset of LAKE_DATASETS) {
      const ofDataset = done.filter((_, at) => jobs[at].dataset === dataset);
      const curated = ofDataset.map((part) => part.curatedKey);
      const rejects = ofDataset.flatMap((part) => (part.rejectsKey ? [part.rejectsKey] : []));
      // A re-run must not leave an earlier attempt's rejects (or parts) behind.
      const written = new Set([...curated, ...rejects]);
      for (const folder of ['curated', 'quarantine'] as const) {
        for (const key of await context.store.list(objectLayout.runFolder(folder, dataset, manifest.ingestDate, ref.runId))) {
          if (!written.has(key)) await context.store.delete(key);
        }
      }
      parts[dataset] = curated;
      parts[`${dataset}_rejects`] = rejects;
      quality[dataset] = mergeDatasetQuality(ofDataset.map((part) => part.output.quality));
    }
    manifest.quality = quality;
    noteStepDetails(manifest, 'transform', {
      parts,
      counts: {
        transactions: quality.transactions.rowsOut,
        rewards: quality.rewards.rowsOut,
        transactions_rejected: quality.transactions.rejected,
        rewards_rejected: quality.rewards.rejected,
        parts: jobs.length,
        parts_at_once: threads,
      },
    });
  });
  return ref;
}

async function transformPart(
  context: Pick<PipelineContext, 'store' | 'onProgress' | 'maxTextBytes'>,
  manifest: RunManifest,
  ref: RunRef,
  transformer: PartTransformer,
  job: PartJob,
): Promise<PartDone> {
  const output = await transformer.transform(job.dataset, await context.store.get(job.rawKey), { maxTextBytes: context.maxTextBytes });
  const curatedKey = objectLayout.curated(job.dataset, manifest.ingestDate, ref.runId, job.index);
  await putTracked(context, manifest, curatedKey, output.parquet, 'application/vnd.apache.parquet');
  let rejectsKey: string | undefined;
  if (output.rejectsCsv) {
    rejectsKey = objectLayout.quarantine(job.dataset, manifest.ingestDate, ref.runId, job.index);
    await putTracked(context, manifest, rejectsKey, output.rejectsCsv, 'text/csv');
  }
  context.onProgress?.({ step: 'transform', rowsIn: output.quality.rowsIn, rowsOut: output.quality.rowsOut });
  return { curatedKey, rejectsKey, output };
}

/**
 * `work` on every item, at most `limit` at once, the answers in the items' order. On a failure no new item starts;
 * the ones in flight are awaited (none is left running behind the step), then the first failure is thrown.
 */
async function runBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const at = next++;
      try {
        results[at] = await work(items[at]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}
