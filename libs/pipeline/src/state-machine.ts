import { ExecutionStoppedError, PipelineError, TRANSIENT_ERROR_NAMES } from './pipeline-errors';
import { STATE_MACHINE_LIMITS } from './service-limits';
import type { ExecutionRequest, PipelineContext, RunRef, RunRequest } from './pipeline-context';
import { catalogStep } from './steps/catalog-step';
import { commitStep, recordFailureStep, type FailureInput } from './steps/commit-step';
import { extractStep } from './steps/extract-step';
import { loadStep } from './steps/load-step';
import { planStep } from './steps/plan-step';
import { rebuildStep, type RebuildInput } from './steps/rebuild-step';
import { transformStep } from './steps/transform-step';
import { verifyStep } from './steps/verify-step';

/** The Task states of one run, in order. Load comes before Catalog, so the catalog lists only loaded runs. */
export const PIPELINE_TASKS = ['Extract', 'Transform', 'Load', 'Catalog', 'Commit'] as const;
export type PipelineTask = (typeof PIPELINE_TASKS)[number] | 'RecordFailure' | 'Plan' | 'Rebuild' | 'Verify';
export const ALL_TASKS: readonly PipelineTask[] = ['Plan', ...PIPELINE_TASKS, 'RecordFailure', 'Rebuild', 'Verify'];

/** The resource (a Lambda ARN in AWS; any placeholder locally) each Task state invokes. */
export type StateMachineResources = Record<PipelineTask, string>;

export interface StateMachineOptions {
  /** Seconds between tries while an earlier load still runs in the warehouse (`WarehouseInUseError`); 60. */
  warehouseInUseIntervalSeconds?: number;
  /** Retry on transient errors: attempts after the first, first interval, and backoff. */
  maxRetries?: number;
  retryIntervalSeconds?: number;
  backoffRate?: number;
  /** Per task, seconds. Default and maximum: a Lambda's limit (`STATE_MACHINE_LIMITS.lambdaTimeoutSeconds`). */
  taskTimeoutSeconds?: number;
  /** The whole execution, seconds (so a stuck one ends, and the timed-out alarm can fire). Default 24 hours. */
  executionTimeoutSeconds?: number;
}

/**
 * Errors the AWS runtime reports for a Lambda that failed for a moment, not for a bug. Not States.Timeout: a
 * task that ran into its timeout (the Lambda's own 15 minutes) would only do so again, an hour burnt per step.
 */
const AWS_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/** Backfill chunks run inside a Map state; their states carry this prefix (names are unique machine-wide). */
export const CHUNK_STATE_PREFIX = 'Chunk';

/** The states of a rebuild after its start: each runs the Rebuild task in another phase. */
export const REBUILD_PHASE_STATES = { runs: 'RebuildRuns', finish: 'RebuildFinish', discard: 'RebuildDiscard' } as const;

/** The task a Task state runs, by its name (`ChunkLoad` runs Load, `RebuildFinish` runs Rebuild). */
export function taskOfState(stateName: string): PipelineTask {
  if ((Object.values(REBUILD_PHASE_STATES) as string[]).includes(stateName)) return 'Rebuild';
  const task = stateName.startsWith(CHUNK_STATE_PREFIX) ? stateName.slice(CHUNK_STATE_PREFIX.length) : stateName;
  if (!(ALL_TASKS as readonly string[]).includes(task))
    throw new PipelineError(`No task behind state ${stateName}: the definition and the handlers disagree.`, { code: 'UNKNOWN_STATE' });
  return task as PipelineTask;
}

/**
 * The one ASL definition both homes run:
 * - Plan validates the input, names the run (scheduled executions come without a run id) and, for a
 *   backfill, cuts the window into months;
 * - an incremental run is Extract → Transform → Load → Catalog → Commit;
 * - a backfill runs that chain once per month, in order, in a Map state (MaxConcurrency 1), each month a run
 *   of its own;
 * - `{"mode": "rebuild"}` rebuilds the warehouse from the lake: Rebuild starts it (the lock, the staged warehouse)
 *   and answers batches of committed runs, a Map replays them in order (`MaxConcurrency` 1, one task per batch),
 *   and RebuildFinish swaps the new warehouse in; a failure anywhere discards the staged one, then RecordFailure;
 * - `{"mode": "verify"}` proves the warehouse against the lake and the lake against the source (a difference fails it).
 * Each Task retries transient errors with exponential backoff (never auth or validation errors), and a Catch
 * records the failure in the run's manifest, then ends in Fail. Steps pass references, never data.
 */
export function buildStateMachineDefinition(resources: StateMachineResources, options: StateMachineOptions = {}): Record<string, unknown> {
  const taskTimeoutSeconds = options.taskTimeoutSeconds ?? STATE_MACHINE_LIMITS.lambdaTimeoutSeconds;
  if (taskTimeoutSeconds > STATE_MACHINE_LIMITS.lambdaTimeoutSeconds) {
    throw new PipelineError(
      `taskTimeoutSeconds ${taskTimeoutSeconds} is over the ${STATE_MACHINE_LIMITS.lambdaTimeoutSeconds} s a Lambda function may run.`,
      { code: 'TASK_TIMEOUT' },
    );
  }
  const task = (name: PipelineTask, next: string | undefined, onError: string | undefined, extra: Record<string, unknown> = {}) => ({
    Type: 'Task',
    Resource: resources[name],
    TimeoutSeconds: taskTimeoutSeconds,
    ...extra,
    Retry: [
      // A verification waits for a run holding the lock to finish.
      ...(name === 'Verify' ? [{ ErrorEquals: ['RunLockedError'], IntervalSeconds: 300, MaxAttempts: 12, BackoffRate: 1 }] : []),
      ...(name === 'Load' || name === 'Rebuild'
        ? [
            {
              ErrorEquals: ['WarehouseInUseError'],
              IntervalSeconds: options.warehouseInUseIntervalSeconds ?? 60,
              MaxAttempts: 20,
              BackoffRate: 1,
            },
          ]
        : []),
      {
        ErrorEquals: [...TRANSIENT_ERROR_NAMES, ...AWS_TRANSIENT],
        IntervalSeconds: options.retryIntervalSeconds ?? 5,
        MaxAttempts: options.maxRetries ?? 3,
        BackoffRate: options.backoffRate ?? 2,
      },
    ],
    ...(onError ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: onError }] } : {}),
    ...(next ? { Next: next } : { End: true }),
  });
  const runStates = (prefix: string): Record<string, unknown> => {
    const states: Record<string, unknown> = {};
    PIPELINE_TASKS.forEach((name, index) => {
      const next = PIPELINE_TASKS[index + 1];
      states[`${prefix}${name}`] = task(name, next && `${prefix}${next}`, `${prefix}RecordFailure`);
    });
    states[`${prefix}RecordFailure`] = { Type: 'Task', Resource: resources.RecordFailure, TimeoutSeconds: 60, Next: `${prefix}Failed` };
    // The step's own error and cause end the execution, so they are seen even where no manifest could be written.
    states[`${prefix}Failed`] = { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' };
    return states;
  };
  return {
    Comment:
      'Card-rewards pipeline: plan, then extract, transform, load, catalog, commit (a backfill month by month; or a rebuild). Generated by @org/pipeline.',
    StartAt: 'Plan',
    TimeoutSeconds: options.executionTimeoutSeconds ?? 86_400,
    States: {
      // The input is handed over whole; the start time names scheduled runs.
      Plan: task('Plan', 'Route', 'PlanFailed', { Parameters: { 'request.$': '$', 'startTime.$': '$$.Execution.StartTime' } }),
      // No run exists yet to record the failure in: the execution's own error says why (the Task's error and cause).
      PlanFailed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      Route: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.mode', StringEquals: 'rebuild', Next: 'Rebuild' },
          { Variable: '$.mode', StringEquals: 'verify', Next: 'Verify' },
          { Variable: '$.mode', StringEquals: 'backfill', Next: 'Backfill' },
        ],
        Default: PIPELINE_TASKS[0],
      },
      Rebuild: task('Rebuild', 'RebuildReplay', 'RebuildDiscard'),
      RebuildReplay: {
        Type: 'Map',
        ItemsPath: '$.batches',
        MaxConcurrency: 1,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: REBUILD_PHASE_STATES.runs,
          States: { [REBUILD_PHASE_STATES.runs]: task('Rebuild', undefined, undefined) },
        },
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: REBUILD_PHASE_STATES.discard }],
        Next: REBUILD_PHASE_STATES.finish,
      },
      [REBUILD_PHASE_STATES.finish]: task('Rebuild', undefined, REBUILD_PHASE_STATES.discard, {
        Parameters: { 'runId.$': '$.runId', phase: 'finish' },
      }),
      // The old warehouse was never touched: what was built beside it goes, then the run records its failure.
      [REBUILD_PHASE_STATES.discard]: {
        ...task('Rebuild', 'RecordFailure', undefined, { Parameters: { 'runId.$': '$.runId', phase: 'discard', 'error.$': '$.error' } }),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.discardError', Next: 'RecordFailure' }],
      },
      Verify: task('Verify', undefined, 'RecordFailure'),
      Backfill: {
        Type: 'Map',
        ItemsPath: '$.chunks',
        MaxConcurrency: 1,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: `${CHUNK_STATE_PREFIX}${PIPELINE_TASKS[0]}`,
          States: runStates(CHUNK_STATE_PREFIX),
        },
        ResultPath: null,
        End: true,
      },
      ...runStates(''),
    },
  };
}

/** The step functions behind each Task, bound to a context: what a local runner or a Lambda calls. */
export function pipelineTaskHandlers(context: PipelineContext): Record<PipelineTask, (input: unknown) => Promise<unknown>> {
  return {
    Plan: (input) => planStep(context, input as { request?: ExecutionRequest; startTime?: string }),
    Extract: (input) => extractStep(context, input as RunRequest),
    Transform: (input) => transformStep(context, input as RunRef),
    Load: (input) => loadStep(context, input as RunRef),
    Catalog: (input) => catalogStep(context, input as RunRef),
    Commit: (input) => commitStep(context, input as RunRef),
    RecordFailure: (input) => recordFailureStep(context, input as FailureInput),
    Rebuild: (input) => rebuildStep(context, input as RebuildInput),
    Verify: (input) => verifyStep(context, input as RunRef & { accept?: boolean }),
  };
}

/**
 * Task handlers keyed by state name, as an in-process engine (aws-local-stepfunctions) wants them, for every
 * Task state of `definition`, the Map's included. The local engine, unlike Step Functions, goes on starting
 * the Map's queued items after one has failed; so once a run has failed, later runs of the same execution
 * stop at their first step, without touching anything (as in AWS, where the Map stops).
 */
export function localTaskHandlers(
  definition: Record<string, unknown>,
  handlers: Record<PipelineTask, (input: unknown) => Promise<unknown>>,
): Record<string, (input: unknown) => Promise<unknown>> {
  let failed = false;
  const started = new Set<string>();
  const failing = new Set<string>();
  const stateNames = (states: Record<string, { Type: string; ItemProcessor?: { States: Record<string, never> } }>): string[] =>
    Object.entries(states).flatMap(([name, state]) =>
      state.Type === 'Task' ? [name] : state.Type === 'Map' && state.ItemProcessor ? stateNames(state.ItemProcessor.States) : [],
    );
  return Object.fromEntries(
    stateNames(definition['States'] as never).map((name) => {
      const task = taskOfState(name);
      return [
        name,
        async (input: unknown) => {
          const payload = input as { runId?: string; phase?: string; runs?: string[] };
          const runId = payload.runId ?? '';
          // A rebuild's batches share its run id: each is an item of its own.
          const item = payload.phase === 'runs' ? `${runId}#${payload.runs?.[0] ?? ''}` : runId;
          if (task === 'RecordFailure' || payload.phase === 'discard') {
            failed = true;
            if (!started.has(runId)) return input;
          } else if ((failed || failing.size > 0) && !started.has(item)) {
            throw new ExecutionStoppedError(`Run ${item} was not started: an earlier run of this execution failed.`);
          }
          started.add(item);
          started.add(runId);
          try {
            const output = await handlers[task](input);
            failing.delete(item);
            return output;
          } catch (error) {
            // Until a retry of the same item succeeds, nothing queued after it starts.
            failing.add(item);
            throw error;
          }
        },
      ];
    }),
  );
}
