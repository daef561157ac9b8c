import { VerificationFailedError } from '../pipeline-errors';
import type { PipelineContext, RunRef } from '../pipeline-context';
import { acquireRunLock, lockTakeoverMessage, releaseRunLock } from '../run-lock';
import { closeRunManifest, openRunManifest, writeManifest } from '../run-manifest';
import { verifyPipeline } from '../verify';
import { noteStepDetails, recordStep } from './step-record';

/**
 * `{"mode": "verify"}`: the checks of `verifyPipeline` (all but `--deep`, which reads the Parquet) as a run of its
 * own, under the run lock so no load is half way through while the ledger and the manifests are compared. The
 * report goes into the run's manifest (`verification`), its figures into the step's counts (the metrics); a
 * difference fails the run with VerificationFailedError, which ends the execution in Fail, for the alarm.
 */
export async function verifyStep(
  context: Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'source' | 'now' | 'onProgress' | 'lockOwner'>,
  ref: RunRef & { accept?: boolean },
): Promise<RunRef> {
  const now = context.now();
  await writeManifest(context.store, openRunManifest({ runId: ref.runId, mode: 'verify', now }));
  await recordStep(context, ref.runId, 'verify', async (record) => {
    const lock = await acquireRunLock(context.store, ref.runId, now, context.lockOwner);
    if (lock.tookOverFrom) context.onProgress?.({ step: 'verify', message: lockTakeoverMessage(lock.tookOverFrom, lock.reason) });
    try {
      const report = await verifyPipeline(context, { accept: ref.accept === true });
      record.verification = report;
      const failed = report.checks.filter((check) => !check.ok);
      noteStepDetails(record, 'verify', {
        counts: {
          checks: report.checks.length,
          checks_failed: failed.length,
          differences: failed.reduce((sum, check) => sum + check.problems.length, 0),
          source_months_differing: report.sourceMonths.filter((month) => !month.acknowledged).length,
        },
      });
      if (!report.ok) {
        // Kept before the step fails: the Catch path marks the run failed and leaves the report in place.
        await writeManifest(context.store, record);
        throw new VerificationFailedError(
          `Verification found differences: ${failed.map((check) => `${check.name}: ${check.problems.slice(0, 3).join('; ')}`).join(' | ')}. ` +
            'The runbook in apps/aws/README.md ("A reconciliation alarm") says what each means and what to do.',
        );
      }
    } finally {
      await releaseRunLock(context.store, ref.runId);
    }
  });
  await closeRunManifest(context.store, ref.runId, context.now());
  return { runId: ref.runId };
}
