import { StepOrderError } from '../pipeline-errors';
import { createHash } from 'node:crypto';
import type { PipelineContext } from '../pipeline-context';
import { readManifest, writeManifest, type RunManifest, type StepName } from '../run-manifest';

/** Runs a step's body with its manifest record: started, then succeeded (with duration) or failed. */
export async function recordStep(
  context: Pick<PipelineContext, 'store' | 'now'>,
  runId: string,
  step: StepName,
  body: (manifest: RunManifest) => Promise<void>,
): Promise<RunManifest> {
  const manifest = await readManifest(context.store, runId);
  const started = context.now();
  manifest.steps[step] = { status: 'running', startedAt: started.toISOString() };
  await writeManifest(context.store, manifest);
  await body(manifest);
  const finished = context.now();
  manifest.steps[step] = {
    ...manifest.steps[step],
    status: 'succeeded',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
  };
  await writeManifest(context.store, manifest);
  return manifest;
}

/** Writes an object and remembers its checksum in the manifest. */
export async function putTracked(
  context: Pick<PipelineContext, 'store'>,
  manifest: RunManifest,
  key: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<void> {
  await context.store.put(key, body, { contentType });
  manifest.checksums[key] = createHash('sha256').update(body).digest('hex');
}

/** Adds counts and keys to a step's record (the record recordStep opened). */
export function noteStepDetails(
  manifest: RunManifest,
  step: StepName,
  details: {
    counts?: Record<string, number>;
    keys?: Record<string, string>;
    parts?: Record<string, string[]>;
    digests?: Record<string, string>;
  },
): void {
  const record = manifest.steps[step];
  if (!record) throw new StepOrderError(`Step ${step} has no record in run ${manifest.runId}: it was not started through recordStep.`);
  Object.assign(record, details);
}
