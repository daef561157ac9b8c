import { StepOrderError } from '../pipeline-errors';
import { laterOf, readCursor, writeCursor, type Cursor } from '../cursor-state';
import { releaseRunLock } from '../run-lock';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { closeRunManifest, manifestSha256, readManifest, writeManifest } from '../run-manifest';
import { chainedRuns } from '../manifest-chain';
import { rememberRepulledMonths, rememberRepulledRewardMonths } from '../source-check';
import type { ObjectStore } from '../ports';
import { clampCursor } from './extract-step';
import { recordStep } from './step-record';

/**
 * Advances the cursor (never backwards) now that the load succeeded, closes the manifest, frees the lock.
 * Only incremental runs move the incremental cursor: a backfill fills a window of the past, and moving the
 * cursor to its end would skip whatever lies between the cursor and that window, for good.
 */
export async function commitStep(context: Pick<PipelineContext, 'store' | 'now'>, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'commit', async (manifest) => {
    if (manifest.steps.load?.status !== 'succeeded')
      throw new StepOrderError(`Run ${ref.runId} has not loaded; refusing to move the cursor. Run load first (or start the run again).`);
    // Never past the run's start (the cursor clamped at extract, even if the stored one is further on).
    const current = clampCursor(await readCursor(context.store), new Date(manifest.startedAt)).cursor;
    const incremental = manifest.mode === 'incremental';
    const loaded = manifest.steps.load.counts ?? {};
    const next: Cursor = {
      transactionsThrough: incremental
        ? laterOf(current.transactionsThrough, manifest.observed.transactionsThrough)
        : current.transactionsThrough,
      rewardsUpdatedThrough: incremental
        ? laterOf(current.rewardsUpdatedThrough, manifest.observed.rewardsUpdatedThrough)
        : current.rewardsUpdatedThrough,
      lastCommittedRunId: ref.runId,
      warehouseRows: (loaded['transactions_in_table'] ?? 0) + (loaded['rewards_in_table'] ?? 0),
      ...(current.accounts || manifest.accounts?.length
        ? { accounts: [...new Set([...(current.accounts ?? []), ...(manifest.accounts ?? [])])].sort() }
        : {}),
    };
    await writeCursor(context.store, next);
    manifest.cursorAfter = next;
    manifest.chain = await chainLink(context.store, ref.runId);
    if (manifest.sourceCheck) await rememberRepulledMonths(context.store, ref.runId, manifest.sourceCheck);
    if (manifest.rewardsCheck) await rememberRepulledRewardMonths(context.store, ref.runId, manifest.rewardsCheck);
  });
  await closeRunManifest(context.store, ref.runId, context.now());
  await releaseRunLock(context.store, ref.runId);
  return ref;
}

/** The committed run before `runId` in the audit trail, and the sha256 of its manifest as stored now. */
async function chainLink(store: ObjectStore, runId: string): Promise<{ previousRunId: string | null; previousSha256: string | null }> {
  const previous = (await chainedRuns(store)).filter((manifest) => manifest.runId !== runId).at(-1);
  return previous
    ? { previousRunId: previous.runId, previousSha256: await manifestSha256(store, previous.runId) }
    : { previousRunId: null, previousSha256: null };
}

export interface FailureInput extends RunRef {
  error?: { Error?: string; Cause?: string };
}

/** The Catch path: records the failure in the manifest and frees the lock. The cursor stays where it was. */
export async function recordFailureStep(context: Pick<PipelineContext, 'store' | 'now'>, input: FailureInput): Promise<FailureInput> {
  const manifest = await readManifest(context.store, input.runId).catch(() => undefined);
  if (manifest && manifest.status === 'running') {
    const failedStep = (Object.entries(manifest.steps).find(([, step]) => step?.status === 'running')?.[0] ?? 'unknown') as string;
    const step = manifest.steps[failedStep as keyof typeof manifest.steps];
    if (step) step.status = 'failed';
    manifest.status = 'failed';
    manifest.finishedAt = context.now().toISOString();
    manifest.error = { step: failedStep, name: input.error?.Error ?? 'Error', message: causeMessage(input.error?.Cause) };
    await writeManifest(context.store, manifest);
  }
  await releaseRunLock(context.store, input.runId);
  return input;
}

function causeMessage(cause: string | undefined): string {
  if (!cause) return 'no cause given';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; message?: string };
    return parsed.errorMessage ?? parsed.message ?? cause;
  } catch {
    return cause;
  }
}
