import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { readManifest, type PipelineContext, type PipelineTask, type StepName } from '@org/pipeline';
import { S3ObjectStore } from '@org/s3-adapter';
import { readAwsConfig, type AwsPipelineConfig } from './aws-config';
import { METRICS_NAMESPACE, SERVICE_NAME } from './observability-names';

/** SDK clients a test (or a caller with custom settings) may hand in; defaults are built from the config. */
export interface AwsClients {
  s3?: S3Client;
  [other: string]: unknown;
}

/** What every task gets: the S3 store, the clock, the settings. */
export type BaseContext = Pick<PipelineContext, 'store' | 'now' | 'lookbackDays'>;

/** How a port wraps the SDK clients it builds, so X-Ray traces their calls (a no-op outside Lambda). */
export interface ClientTracing {
  traced<Client>(client: Client): Client;
}

/** The ports beyond the base that one task needs, built by that task's own handler file. */
export type ExtraPorts<Ports> = (
  config: AwsPipelineConfig,
  clients: AwsClients,
  store: S3ObjectStore,
  tracing: ClientTracing,
) => Promise<Ports>;

/** For tasks that need nothing beyond the base. */
export const noExtraPorts: ExtraPorts<object> = async () => ({});

export { SERVICE_NAME, METRICS_NAMESPACE };

/** Powertools for one task: JSON logs with the task (and the run id, per event), EMF metrics, X-Ray traces. */
export interface TaskObservability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function taskObservability(task: PipelineTask): TaskObservability {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME, persistentKeys: { task } }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { task } }),
    tracer: new Tracer({ serviceName: SERVICE_NAME }),
  };
}

const STEP_OF_TASK: Partial<Record<PipelineTask, StepName>> = {
  Extract: 'extract',
  Transform: 'transform',
  Load: 'load',
  Catalog: 'catalog',
  Commit: 'commit',
  Rebuild: 'rebuild',
  Verify: 'verify',
};

/** Tasks whose counts are published when they fail too: a verification's differences are what its alarm watches. */
const COUNTS_ON_FAILURE: ReadonlySet<PipelineTask> = new Set(['Verify']);

/** The row counts a step recorded in its run's manifest, as the pipeline's metrics (Count): pulled, curated, rejected, loaded. */
export function stepMetrics(task: PipelineTask, counts: Record<string, number> = {}): { name: string; value: number }[] {
  const pick: Record<string, string> =
    task === 'Extract'
      ? { transactions: 'TransactionsPulled', rewards: 'RewardsPulled', source_months_repulled: 'SourceMonthsRepulled' }
      : task === 'Transform'
        ? {
            transactions: 'TransactionsCurated',
            rewards: 'RewardsCurated',
            transactions_rejected: 'TransactionsRejected',
            rewards_rejected: 'RewardsRejected',
          }
        : task === 'Load' || task === 'Rebuild'
          ? {
              transactions_staged: 'TransactionsLoaded',
              rewards_staged: 'RewardsLoaded',
              facts_without_transaction: 'FactsWithoutTransaction',
              committed_runs_replayed: 'RunsReplayed',
              facts_rederived: 'FactsRederived',
            }
          : task === 'Verify'
            ? { differences: 'ReconciliationDifferences', checks_failed: 'ReconciliationChecksFailed' }
            : {};
  return Object.entries(pick)
    .filter(([count]) => typeof counts[count] === 'number')
    .map(([count, name]) => ({ name, value: counts[count] as number }));
}

/** The S3 store every task uses, plus the task's own extra ports: exactly what its step declares, no more. */
export async function buildTaskContext<Ports extends object>(
  config: AwsPipelineConfig,
  clients: AwsClients,
  extra: ExtraPorts<Ports>,
  tracing: ClientTracing = { traced: (client) => client },
): Promise<BaseContext & Ports> {
  const store = new S3ObjectStore(tracing.traced(clients.s3 ?? new S3Client(sdkClientConfig(config))), {
    bucket: config.bucket,
    prefix: config.prefix,
    serverSideEncryption: 'AES256',
  });
  return { store, now: () => new Date(), lookbackDays: config.lookbackDays, ...(await extra(config, clients, store, tracing)) };
}

/**
 * Settings of every SDK client. One retry layer per concern: the SDK retries a throttled or failed call a few
 * times within the Lambda (3 attempts, its standard mode with backoff), the adapters turn what still fails
 * into TransientError, and the state machine retries the step (3 times, 5 s doubling). No adapter loops on
 * its own.
 */
export function sdkClientConfig(config: Pick<AwsPipelineConfig, 'region'>): { region: string; maxAttempts: number; retryMode: 'standard' } {
  return { region: config.region, maxAttempts: 3, retryMode: 'standard' };
}

/**
 * A Lambda handler for one Task state. The step declares the ports it uses (a `Pick` of PipelineContext), and
 * `extra` must provide every one beyond the base: a handler that forgets one does not compile. Each handler
 * file imports only its own step and ports, so its bundle holds only what it uses. Config is read once per
 * container and the context built once; errors are rethrown as they are, so their name (TransientError, ...)
 * is what the state machine's Retry and Catch match. Powertools logs each step's start and end with the run
 * id, publishes its duration and row counts as metrics, and traces the SDK clients.
 */
export function lambdaStep<I extends { runId?: string; request?: unknown }, O, Ports extends object>(
  task: PipelineTask,
  step: (context: BaseContext & Ports, input: I) => Promise<O>,
  extra: ExtraPorts<Ports>,
  clients: AwsClients = {},
  observability: TaskObservability = taskObservability(task),
): (event: I) => Promise<O> {
  const { logger, metrics, tracer } = observability;
  const tracing: ClientTracing = { traced: (client) => tracer.captureAWSv3Client(client as never) as typeof client };
  let context: Promise<BaseContext & Ports> | undefined;
  return async (event) => {
    context ??= buildTaskContext(readAwsConfig(process.env), clients, extra, tracing);
    const started = Date.now();
    logger.appendKeys({ runId: event.runId });
    logger.info('step started');
    try {
      const built = await context;
      const output = await step(built, event);
      const durationMs = Date.now() - started;
      logger.info('step succeeded', { durationMs });
      metrics.addMetric('StepDurationMs', MetricUnit.Milliseconds, durationMs);
      metrics.addMetric('StepSucceeded', MetricUnit.Count, 1);
      const stepName = STEP_OF_TASK[task];
      const runId = (output as { runId?: string } | undefined)?.runId ?? event.runId;
      if (stepName && runId) {
        // Counts are in the run's manifest: one small read, and a failure to read it costs only the metrics.
        const manifest = await readManifest(built.store, runId).catch(() => undefined);
        for (const metric of stepMetrics(task, manifest?.steps[stepName]?.counts))
          metrics.addMetric(metric.name, MetricUnit.Count, metric.value);
      }
      return output;
    } catch (error) {
      context = undefined;
      logger.error('step failed', { error: (error as Error).name, cause: (error as Error).message, durationMs: Date.now() - started });
      metrics.addMetric('StepFailed', MetricUnit.Count, 1);
      const stepName = STEP_OF_TASK[task];
      if (COUNTS_ON_FAILURE.has(task) && stepName && event.runId) {
        const built = await buildTaskContext(readAwsConfig(process.env), clients, async () => ({}), tracing).catch(() => undefined);
        const manifest = built ? await readManifest(built.store, event.runId).catch(() => undefined) : undefined;
        for (const metric of stepMetrics(task, manifest?.steps[stepName]?.counts))
          metrics.addMetric(metric.name, MetricUnit.Count, metric.value);
      }
      throw error;
    } finally {
      metrics.publishStoredMetrics();
      logger.removeKeys(['runId']);
    }
  };
}
