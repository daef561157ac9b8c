import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { mkdir } from 'node:fs/promises';
import { DuckDbCatalog, DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';
import { createRunnerStore } from './object-store-factory';
import {
  buildStateMachineDefinition,
  newRunId,
  objectLayout,
  PIPELINE_TASKS,
  pipelineTaskHandlers,
  readManifest,
  recordFailureStep,
  type PipelineContext,
  type ProgressEvent,
  type RunManifest,
  type RunRequest,
  type StateMachineResources,
} from '@org/pipeline';
import { createPlutusClient, type PlutusClient } from '@org/plutus-client';
import { startSandbox, type Sandbox } from '@org/plutus-sandbox';
import type { RunnerConfig } from './runner-config';

/** Local stand-ins for the Lambda ARNs: the state machine is the same, the handlers run in this process. */
const LOCAL_RESOURCES = Object.fromEntries(
  [...PIPELINE_TASKS, 'RecordFailure'].map((task) => [task, `arn:aws:lambda:us-east-1:000000000000:function:local-${task.toLowerCase()}`]),
) as StateMachineResources;

export const WAREHOUSE_FILE = 'warehouse.duckdb';

export interface RunOutcome {
  ok: boolean;
  runId: string;
  manifest?: RunManifest;
  manifestPath: string;
  warehousePath: string;
  dataDir: string;
  /** One line: why the run failed. */
  failure?: string;
  durationMs: number;
  /** The HTML dashboard written after a successful run. */
  dashboardPath?: string;
}

/**
 * Runs the pipeline's state machine once, in process (aws-local-stepfunctions), on the local adapters and
 * the configured source (the embedded sandbox by default).
 */
export async function runPipelineOnce(config: RunnerConfig, onProgress: (event: ProgressEvent) => void, now: () => Date = () => new Date()): Promise<RunOutcome> {
  const started = Date.now();
  const { store, localFile } = createRunnerStore(config);
  const warehousePath = join(config.dataDir, WAREHOUSE_FILE);
  await mkdir(config.dataDir, { recursive: true });
  const database = new DuckDbDatabase(warehousePath);
  let sandbox: Sandbox | undefined;
  let source: PlutusClient;
  if (config.source.kind === 'sandbox') {
    sandbox = await startSandbox({
      dataset: config.source.dataset,
      now: config.source.now,
      seed: config.source.seed,
      months: config.source.months,
      faults: config.source.faults,
    });
    source = createPlutusClient({ baseUrl: sandbox.url, auth: sandbox.credentials, userAgent: 'local-runner', retry: { baseDelayMs: 50, maxDelayMs: 500 } });
  } else {
    source = createPlutusClient({ baseUrl: config.source.baseUrl, auth: config.source.auth, userAgent: 'local-runner' });
  }
  const runId = newRunId(now());
  try {
    const context: PipelineContext = {
      store,
      catalog: new DuckDbCatalog(database, localFile),
      warehouse: new DuckDbWarehouse(database, localFile),
      source,
      now,
      lookbackDays: config.lookbackDays,
      onProgress,
    };
    const request: RunRequest = config.backfill
      ? { runId, mode: 'backfill', from: config.backfill.from, to: config.backfill.to }
      : { runId, mode: 'incremental' };
    const machine = new StateMachine(buildStateMachineDefinition(LOCAL_RESOURCES, { retryIntervalSeconds: 1 }) as never);
    const handlers = pipelineTaskHandlers(context);
    const execution = machine.run(request as never, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          Object.entries(handlers).map(([task, handler]) => [task, async (input: unknown) => (await handler(input)) as never]),
        ),
        // Locally a retry need not wait as long as in AWS.
        retryIntervalOverrides: Object.fromEntries(PIPELINE_TASKS.map((task) => [task, 200])),
      },
    });
    let failure: string | undefined;
    try {
      await execution.result;
    } catch (error) {
      failure = (error as Error).message;
    }
    let manifest = await readManifest(store, runId).catch(() => undefined);
    if (manifest?.status === 'running') {
      // The engine itself failed (not a step): close the run the way the Catch path would.
      await recordFailureStep(context, { runId, error: { Error: 'ExecutionError', Cause: failure ?? 'the execution stopped' } });
      manifest = await readManifest(store, runId);
    }
    if (manifest?.status === 'failed') failure = `${manifest.error?.step ?? 'a step'} failed: ${manifest.error?.name}: ${manifest.error?.message}`;
    return {
      ok: failure === undefined && manifest?.status === 'succeeded',
      runId,
      manifest,
      manifestPath: store.locate(objectLayout.manifest(runId)),
      warehousePath,
      dataDir: config.dataDir,
      failure: failure ?? (manifest?.status === 'succeeded' ? undefined : 'the run did not finish'),
      durationMs: Date.now() - started,
    };
  } finally {
    await database.close();
    await sandbox?.close();
  }
}
