import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { mkdir } from 'node:fs/promises';
import { DuckDbCatalog, DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';
import { createRunnerStore } from './object-store-factory';
import {
  ALL_TASKS,
  buildStateMachineDefinition,
  localTaskHandlers,
  newRunId,
  objectLayout,
  pipelineTaskHandlers,
  readManifest,
  recordFailureStep,
  type ExecutionRequest,
  type ObjectStore,
  type PipelineContext,
  type ProgressEvent,
  type RunManifest,
  type RunPlan,
  type StateMachineResources,
} from '@org/pipeline';
import { createPlutusClient, type PlutusClient, type PlutusLogger } from '@org/plutus-client';
import { offDocumentRows, startSandbox, type Sandbox } from '@org/plutus-sandbox';
import { thisProcessAsLockOwner } from './process-lock-owner';
import { PartWorkerPool, partWorkerScript } from './part-worker-pool';
import { sourceLabel, type RunnerConfig } from './runner-config';

/** Local stand-ins for the Lambda ARNs: the state machine is the same, the handlers run in this process. */
const LOCAL_RESOURCES = Object.fromEntries(
  ALL_TASKS.map((task) => [task, `arn:aws:lambda:us-east-1:000000000000:function:local-${task.toLowerCase()}`]),
) as StateMachineResources;

export const WAREHOUSE_FILE = 'warehouse.duckdb';

export interface RunOutcome {
  ok: boolean;
  runId: string;
  /** Where the rows came from: `sandbox (synthetic)` or `Plutus https://…`. */
  source: string;
  /** The manifest of the run; for a backfill, of its last month. */
  manifest?: RunManifest;
  /** A backfill's months, each a run of its own, in order (only those that started). */
  chunks?: RunManifest[];
  /** A backfill's months that begin after the run started: skipped (nothing can be dated there yet). */
  skippedAfterStart?: RunPlan['skippedAfterStart'];
  /** A backfill's months before the source's first transaction: skipped (nothing is dated there). */
  skippedBeforeSource?: RunPlan['skippedBeforeSource'];
  /** Where the manifest is; absent when none could be written (a read-only data dir, say). */
  manifestPath?: string;
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
export async function runPipelineOnce(
  config: RunnerConfig,
  onProgress: (event: ProgressEvent) => void,
  now: () => Date = () => new Date(),
): Promise<RunOutcome> {
  const started = Date.now();
  const { store, localFile } = createRunnerStore(config);
  const warehousePath = join(config.dataDir, WAREHOUSE_FILE);
  await mkdir(config.dataDir, { recursive: true });
  const database = new DuckDbDatabase(warehousePath);
  const { source, close: closeSource } = await openRunnerSource(config, onProgress);
  const runId = newRunId(now());
  const partTransformer = transformThreadsOf(config);
  try {
    const context: PipelineContext = {
      store,
      catalog: new DuckDbCatalog(database, localFile),
      warehouse: new DuckDbWarehouse(database, localFile, { reportingTimeZone: config.timeZone }),
      source,
      now,
      lookbackDays: config.lookbackDays,
      partRows: config.partRows,
      ...(partTransformer ? { partTransformer } : {}),
      onProgress,
      lockOwner: thisProcessAsLockOwner(),
      sourceLabel: sourceLabel(config.source),
    };
    const allowSourceChange = config.allowSourceChange ? { allowSourceChange: true } : {};
    const request: ExecutionRequest =
      config.command === 'rebuild'
        ? { runId, mode: 'rebuild', ...(config.allowEmpty ? { allowEmpty: true } : {}) }
        : config.backfill
          ? { runId, mode: 'backfill', from: config.backfill.from, to: config.backfill.to, ...allowSourceChange }
          : { runId, mode: 'incremental', ...allowSourceChange };
    const definition = buildStateMachineDefinition(LOCAL_RESOURCES, { retryIntervalSeconds: 1 });
    const handlers = localTaskHandlers(definition, pipelineTaskHandlers(context));
    const execution = new StateMachine(definition as never).run(request as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        // Locally a retry need not wait as long as in AWS.
        retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, 200])),
      },
    });
    let failure: string | undefined;
    let plan: RunPlan | undefined;
    try {
      // A backfill's Map keeps its input as the execution's output: the plan.
      plan = (await execution.result) as unknown as RunPlan;
    } catch (error) {
      failure = (error as Error).message;
    }
    const manifests = await executionManifests(store, runId);
    for (const [index, manifest] of manifests.entries()) {
      if (manifest.status !== 'running') continue;
      // The engine itself failed (not a step): close the run the way the Catch path would.
      await recordFailureStep(context, {
        runId: manifest.runId,
        error: { Error: 'ExecutionError', Cause: failure ?? 'the execution stopped' },
      });
      manifests[index] = await readManifest(store, manifest.runId);
    }
    const failed = manifests.find((manifest) => manifest.status === 'failed');
    if (failed) failure = `${failed.error?.step ?? 'a step'} failed: ${failed.error?.name}: ${failed.error?.message}`;
    const manifest = failed ?? manifests.at(-1);
    const ok = failure === undefined && manifests.length > 0 && manifests.every((one) => one.status === 'succeeded');
    return {
      ok,
      runId: manifest?.runId ?? runId,
      source: sourceLabel(config.source),
      manifest,
      ...(request.mode === 'backfill' ? { chunks: manifests } : {}),
      ...(plan?.skippedAfterStart ? { skippedAfterStart: plan.skippedAfterStart } : {}),
      ...(plan?.skippedBeforeSource ? { skippedBeforeSource: plan.skippedBeforeSource } : {}),
      manifestPath: manifest ? store.locate(objectLayout.manifest(manifest.runId)) : undefined,
      warehousePath,
      dataDir: config.dataDir,
      failure: ok ? undefined : (failure ?? 'the run did not finish'),
      durationMs: Date.now() - started,
    };
  } finally {
    await partTransformer?.close();
    await database.close();
    await closeSource();
  }
}

/**
 * The worker threads a run transforms its raw parts on, when it is given more than one and the worker's script is
 * built (run from the TypeScript sources, as some tests do, the parts are transformed in this thread).
 */
function transformThreadsOf(config: RunnerConfig): PartWorkerPool | undefined {
  const script = partWorkerScript();
  return config.transformThreads > 1 && script ? new PartWorkerPool(script, config.transformThreads, config.partRows) : undefined;
}

/**
 * The source a command reads: the embedded sandbox (started here, stopped by `close`) or real Plutus, through the
 * typed client, with malformed rows quarantined rather than failing the pull.
 */
export async function openRunnerSource(
  config: RunnerConfig,
  onProgress: (event: ProgressEvent) => void,
): Promise<{ source: PlutusClient; close: () => Promise<void> }> {
  let sandbox: Sandbox | undefined;
  let source: PlutusClient;
  if (config.source.kind === 'sandbox') {
    sandbox = await startSandbox({
      dataset: config.source.dataset,
      now: config.source.now,
      seed: config.source.seed,
      months: config.source.months,
      ...(config.source.start ? { start: config.source.start } : {}),
      faults: config.source.faults,
    });
    if (config.source.dataset) {
      const off = offDocumentRows(sandbox.data());
      if (off.rewards + off.transactions > 0) {
        onProgress({
          step: 'sandbox',
          message: `serving ${off.rewards} reward(s) and ${off.transactions} transaction(s) that break the API document, as they are (e.g. ${off.examples[0]})`,
        });
      }
    }
    source = createPlutusClient({
      baseUrl: sandbox.url,
      auth: sandbox.credentials,
      userAgent: 'local-runner',
      retry: { baseDelayMs: 50, maxDelayMs: 500 },
      rowValidation: 'quarantine',
      logger: sourceRetryLogger(onProgress),
    });
  } else {
    // One malformed row from Plutus must never block the pipeline: it is landed and quarantined with its reason.
    source = createPlutusClient({
      baseUrl: config.source.baseUrl,
      auth: config.source.auth,
      userAgent: 'local-runner',
      rowValidation: 'quarantine',
      logger: sourceRetryLogger(onProgress),
    });
  }
  return { source, close: async () => sandbox?.close() };
}

/**
 * The client's retries as progress lines, so a throttled or failing source is seen while it is waited for (a
 * Retry-After of an hour is otherwise minutes of silence). The client's fields name the call, never a credential.
 */
export function sourceRetryLogger(onProgress: (event: ProgressEvent) => void): PlutusLogger {
  return {
    debug: () => undefined,
    warn: (message, fields = {}) => {
      const answer = fields['status'] !== undefined ? `HTTP ${String(fields['status'])}` : String(fields['error'] ?? 'a broken answer');
      const wait = typeof fields['waitMs'] === 'number' ? `, retrying in ${(fields['waitMs'] / 1000).toFixed(1)} s` : ', retrying';
      const call = fields['target'] ? ` to ${String(fields['target'])}` : '';
      onProgress({
        step: 'source',
        message: `Plutus answered ${answer}${call}${wait} (attempt ${String(fields['attempt'] ?? '?')}; ${message})`,
      });
    },
  };
}

/** The manifests an execution wrote: its run's, or a backfill's months (`<runId>-YYYY-MM`), in run order. */
async function executionManifests(store: ObjectStore, runId: string): Promise<RunManifest[]> {
  const ids = new Set(
    (await store.list(`${objectLayout.runsPrefix}${runId}`))
      .map((key) => objectLayout.runIdOfRunsKey(key))
      .filter((id): id is string => id !== undefined && objectLayout.isRunOrChunk(id, runId)),
  );
  const manifests: RunManifest[] = [];
  for (const id of [...ids].sort()) {
    const manifest = await readManifest(store, id).catch(() => undefined);
    if (manifest) manifests.push(manifest);
  }
  return manifests;
}
