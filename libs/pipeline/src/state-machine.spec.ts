import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  ALL_TASKS,
  buildStateMachineDefinition,
  CHUNK_STATE_PREFIX,
  localTaskHandlers,
  pipelineTaskHandlers,
  PIPELINE_TASKS,
  REBUILD_PHASE_STATES,
  type PipelineTask,
  type StateMachineResources,
} from './state-machine';
import type { PipelineContext } from './pipeline-context';
import { STATE_MACHINE_LIMITS } from './service-limits';
import { monthChunks, planRun } from './steps/plan-step';

const resources = Object.fromEntries(
  ALL_TASKS.map((task) => [task, `arn:aws:lambda:eu-west-2:123456789012:function:rewards-${task.toLowerCase()}`]),
) as StateMachineResources;

type States = Record<string, Record<string, unknown>>;

/** Runs the generated ASL with every Task answered by a recorder; `failAt` fails one task (not transiently). */
async function execute(input: object, options: { failAt?: string; context?: object; busyLoads?: number } = {}) {
  let busyLoads = options.busyLoads ?? 0;
  const seen: string[] = [];
  const real = pipelineTaskHandlers({ now: () => new Date('2026-06-30T12:00:00Z') } as PipelineContext);
  const definition = buildStateMachineDefinition(resources) as { States: States };
  const recorder = (task: PipelineTask) => async (input: unknown) => {
    const payload = input as { runId?: string; from?: string; to?: string; phase?: keyof typeof REBUILD_PHASE_STATES; runs?: string[] };
    if (task === 'Plan') return real.Plan(payload);
    // Backfill months (the Map's runs) have ids ending in their month; a rebuild's later states say their phase.
    const name =
      task === 'Rebuild' && payload.phase && payload.phase !== ('start' as never)
        ? REBUILD_PHASE_STATES[payload.phase]
        : `${/-\d{4}-\d{2}$/.test(payload.runId ?? '') ? CHUNK_STATE_PREFIX : ''}${task}`;
    seen.push(
      `${name}:${payload.runId}${payload.from ? `:${payload.from}..${payload.to}` : ''}${payload.runs ? `:${payload.runs.join(',')}` : ''}`,
    );
    if (name === options.failAt) throw Object.assign(new Error('bad row'), { name: 'RowValidationError' });
    if (name === 'Load' && busyLoads-- > 0)
      throw Object.assign(new Error('an earlier batch is still running'), { name: 'WarehouseInUseError' });
    // A rebuild's start answers its batches of committed runs, for the Map.
    if (name === 'Rebuild')
      return {
        runId: payload.runId,
        total: 3,
        batches: [
          { runId: payload.runId, phase: 'runs', runs: ['r1', 'r2'], first: 0, total: 3 },
          { runId: payload.runId, phase: 'runs', runs: ['r3'], first: 2, total: 3 },
        ],
      };
    return { runId: payload.runId };
  };
  const handlers = localTaskHandlers(definition, Object.fromEntries(ALL_TASKS.map((task) => [task, recorder(task)])) as never);
  const execution = new StateMachine(definition as never).run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: { Load: 0 } },
    context: options.context as never,
  });
  const outcome = await execution.result.then(
    () => 'succeeded',
    (error: Error) => `failed: ${error.message}`,
  );
  return { seen, outcome };
}

describe('buildStateMachineDefinition', () => {
  const definition = buildStateMachineDefinition(resources) as { StartAt: string; States: States };

  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = aslValidator(definition as never);
    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it('plans first, then routes: incremental to the chain, backfill to a Map of months in order, rebuild to Rebuild', () => {
    expect(definition.StartAt).toBe('Plan');
    // A bounded execution: a stuck one ends, and the "timed out" alarm can fire.
    expect((definition as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(86_400);
    expect(definition.States['Plan']).toMatchObject({
      Type: 'Task',
      Parameters: { 'request.$': '$', 'startTime.$': '$$.Execution.StartTime' },
      Next: 'Route',
    });
    expect(definition.States['Route']).toMatchObject({ Type: 'Choice', Default: 'Extract' });
    expect(PIPELINE_TASKS.map((task) => definition.States[task]['Next'] ?? 'END')).toEqual([
      'Transform',
      'Load',
      'Catalog',
      'Commit',
      'END',
    ]);
    expect(definition.States['Backfill']).toMatchObject({ Type: 'Map', ItemsPath: '$.chunks', MaxConcurrency: 1 });
    const chunk = (definition.States['Backfill']['ItemProcessor'] as { States: States }).States;
    expect(Object.keys(chunk).every((name) => name.startsWith(CHUNK_STATE_PREFIX))).toBe(true);
  });

  it('retries only transient errors, with exponential backoff, and catches everything into RecordFailure → Fail', () => {
    const chunk = (definition.States['Backfill']['ItemProcessor'] as { States: States }).States;
    for (const [prefix, states] of [
      ['', definition.States],
      [CHUNK_STATE_PREFIX, chunk],
    ] as const) {
      for (const task of PIPELINE_TASKS) {
        const state = states[`${prefix}${task}`] as {
          Retry: { ErrorEquals: string[]; BackoffRate: number; IntervalSeconds: number; MaxAttempts: number }[];
          Catch: unknown[];
        };
        const transient = state.Retry.at(-1) as (typeof state.Retry)[number];
        expect(state.Retry).toHaveLength(task === 'Load' ? 2 : 1);
        expect(transient.ErrorEquals).toContain('TransientError');
        expect(transient.ErrorEquals).not.toContain('States.ALL');
        expect(transient.ErrorEquals.some((name) => /Auth|Schema|Validation|RunRequest/.test(name))).toBe(false);
        expect(transient.BackoffRate).toBeGreaterThan(1);
        // A task that hit its timeout would hit it again: never retried.
        expect(transient.ErrorEquals).not.toContain('States.Timeout');
        expect(transient.ErrorEquals).toContain('Lambda.ClientExecutionTimeoutException');
        // A load waits out an earlier batch still running in the warehouse for longer than any Lambda lives.
        if (task === 'Load') {
          expect(state.Retry[0]).toEqual({ ErrorEquals: ['WarehouseInUseError'], IntervalSeconds: 60, MaxAttempts: 20, BackoffRate: 1 });
          expect(state.Retry[0].IntervalSeconds * state.Retry[0].MaxAttempts).toBeGreaterThan(15 * 60);
        }
        expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${prefix}RecordFailure` }]);
      }
      expect(states[`${prefix}RecordFailure`]).toMatchObject({ Type: 'Task', Resource: resources.RecordFailure, Next: `${prefix}Failed` });
    }
  });

  it('takes retry settings', () => {
    const quick = buildStateMachineDefinition(resources, {
      maxRetries: 1,
      retryIntervalSeconds: 2,
      warehouseInUseIntervalSeconds: 30,
    }) as typeof definition;
    expect((quick.States['Load'] as { Retry: object[] }).Retry.at(-1)).toMatchObject({ MaxAttempts: 1, IntervalSeconds: 2 });
    expect((quick.States['Load'] as { Retry: object[] }).Retry[0]).toMatchObject({
      ErrorEquals: ['WarehouseInUseError'],
      IntervalSeconds: 30,
    });
  });

  it('a scheduled start (no run id) gets a sortable run id without ":" and runs the chain', async () => {
    const { seen, outcome } = await execute({}, { context: { Execution: { Name: 'exec-1' } } });
    expect(outcome).toBe('succeeded');
    expect(seen.map((entry) => entry.split(':')[0])).toEqual(['Extract', 'Transform', 'Load', 'Catalog', 'Commit']);
    const runId = seen[0].split(':')[1];
    expect(runId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
  });

  it('an incremental start with a run id keeps it; a failing step goes through RecordFailure to Fail, not retried', async () => {
    const { seen, outcome } = await execute({ runId: 'r1', mode: 'incremental' }, { failAt: 'Load' });
    expect(outcome).toMatch(/^failed/);
    expect(seen).toEqual(['Extract:r1', 'Transform:r1', 'Load:r1', 'RecordFailure:r1']);
  });

  it('a load that finds an earlier batch still running is tried again (not failed) until the warehouse is free', async () => {
    const { seen, outcome } = await execute({ runId: 'r1', mode: 'incremental' }, { busyLoads: 4 });
    expect(outcome).toBe('succeeded');
    expect(seen).toEqual(['Extract:r1', 'Transform:r1', ...Array(5).fill('Load:r1'), 'Catalog:r1', 'Commit:r1']);
  });

  it('a backfill keeps its window and runs it month by month, each month a run of its own', async () => {
    const { seen, outcome } = await execute({ mode: 'backfill', from: '2024-01-15', to: '2024-03-02', runId: 'bf' });
    expect(outcome).toBe('succeeded');
    expect(seen.filter((entry) => entry.startsWith('ChunkExtract'))).toEqual([
      'ChunkExtract:bf-2024-01:2024-01-15..2024-01-31',
      'ChunkExtract:bf-2024-02:2024-02-01..2024-02-29',
      'ChunkExtract:bf-2024-03:2024-03-01..2024-03-02',
    ]);
    expect(seen).toHaveLength(15);
  });

  it('a backfill started without a run id (as the README documents for AWS) still has its window', async () => {
    const { seen, outcome } = await execute({ mode: 'backfill', from: '2024-02-01', to: '2024-02-10' });
    expect(outcome).toBe('succeeded');
    expect(seen[0]).toMatch(/^ChunkExtract:\d{8}T\d{9}Z-[0-9a-f]{6}-2024-02:2024-02-01\.\.2024-02-10$/);
  });

  it('a failing month stops the backfill there, recorded', async () => {
    const { seen, outcome } = await execute(
      { mode: 'backfill', from: '2024-01-01', to: '2024-02-10', runId: 'bf' },
      { failAt: 'ChunkLoad' },
    );
    expect(outcome).toMatch(/^failed/);
    expect(seen).toEqual([
      'ChunkExtract:bf-2024-01:2024-01-01..2024-01-31',
      'ChunkTransform:bf-2024-01',
      'ChunkLoad:bf-2024-01',
      'ChunkRecordFailure:bf-2024-01',
    ]);
  });

  it('{"mode": "rebuild"}: Rebuild starts it, a Map replays its batches of runs in order (one task each), RebuildFinish swaps it in', async () => {
    const { seen, outcome } = await execute({ mode: 'rebuild', runId: 'rb' });
    expect(outcome).toBe('succeeded');
    expect(seen).toEqual(['Rebuild:rb', 'RebuildRuns:rb:r1,r2', 'RebuildRuns:rb:r3', 'RebuildFinish:rb']);
    expect(definition.States['RebuildReplay']).toMatchObject({ Type: 'Map', ItemsPath: '$.batches', MaxConcurrency: 1, ResultPath: null });
  });

  it.each([
    ['Rebuild', ['Rebuild:rb', 'RebuildDiscard:rb', 'RecordFailure:rb']],
    ['RebuildRuns', ['Rebuild:rb', 'RebuildRuns:rb:r1,r2', 'RebuildDiscard:rb', 'RecordFailure:rb']],
    [
      'RebuildFinish',
      ['Rebuild:rb', 'RebuildRuns:rb:r1,r2', 'RebuildRuns:rb:r3', 'RebuildFinish:rb', 'RebuildDiscard:rb', 'RecordFailure:rb'],
    ],
  ])('a rebuild failing at %s discards what it built beside the warehouse, records the failure and fails', async (failAt, expected) => {
    const { seen, outcome } = await execute({ mode: 'rebuild', runId: 'rb' }, { failAt });
    expect(seen).toEqual(expected);
    expect(outcome).toMatch(/^failed/);
  });

  it('{"mode": "verify"} runs Verify alone; a difference it finds goes through RecordFailure to Fail', async () => {
    expect(await execute({ mode: 'verify', runId: 'v1' })).toEqual({ seen: ['Verify:v1'], outcome: 'succeeded' });
    const failed = await execute({ mode: 'verify', runId: 'v2' }, { failAt: 'Verify' });
    expect(failed.seen).toEqual(['Verify:v2', 'RecordFailure:v2']);
    expect(failed.outcome).toMatch(/^failed/);
    expect(planRun({ mode: 'verify', accept: true }, new Date())).toMatchObject({ mode: 'verify', accept: true });
    expect(() => planRun({ mode: 'incremental', accept: true }, new Date())).toThrow(
      'accept is a boolean, and only for {"mode": "verify"}',
    );
  });

  it('hands allowSourceChange from the request to the run that extracts (every month of a backfill)', () => {
    const start = new Date('2026-06-30T00:00:00Z');
    expect(planRun({ mode: 'incremental', allowSourceChange: true }, start)).toMatchObject({ allowSourceChange: true });
    const backfill = planRun({ mode: 'backfill', from: '2026-01-01', to: '2026-03-31', allowSourceChange: true }, start);
    expect(backfill.chunks?.map((chunk) => chunk.allowSourceChange)).toEqual([true, true, true]);
    expect(planRun({ mode: 'incremental' }, start).allowSourceChange).toBeUndefined();
    expect(() => planRun({ mode: 'incremental', allowSourceChange: 'yes' as unknown as boolean }, start)).toThrow(
      'allowSourceChange is a boolean',
    );
  });

  it('refuses a bad request at Plan, before any run starts', async () => {
    for (const input of [
      { mode: 'backfill', from: '2024-02-30', to: '2024-03-01' },
      { mode: 'backfill', from: 'foo 1', to: '2024-03-01' },
      { mode: 'sideways' },
      { runId: 'a:b' },
    ]) {
      const { seen, outcome } = await execute(input);
      // The execution's error carries the refusal's own message.
      expect([input, outcome]).toEqual([input, expect.stringMatching(/^failed: .*(calendar date|mode must be|runId must be)/)]);
      expect(seen).toEqual([]);
    }
  });

  it('refuses at Plan a backfill whose plan Step Functions could not carry (256 KiB between states), and plans one at the limit', async () => {
    // The longest run id a request may name, so the limit falls inside the months that have begun since 1900.
    const runId = 'b'.repeat(128);
    const toOf = (count: number) => new Date(Date.UTC(1900, count, 0)).toISOString().slice(0, 10);
    const fits = (count: number) =>
      Buffer.byteLength(
        JSON.stringify({
          runId,
          mode: 'backfill',
          from: '1900-01-01',
          to: toOf(count),
          chunks: monthChunks(runId, '1900-01-01', toOf(count)),
        }),
      ) <= STATE_MACHINE_LIMITS.payloadBytes;
    // The longest window starting 1900-01 whose plan fits (a binary search over its months).
    let [months, over] = [1, 12_000];
    while (over - months > 1) {
      const middle = Math.floor((months + over) / 2);
      if (fits(middle)) months = middle;
      else over = middle;
    }
    expect(toOf(months + 1) < new Date().toISOString().slice(0, 10)).toBe(true);
    const atLimit = planRun({ mode: 'backfill', runId, from: '1900-01-01', to: toOf(months) }, new Date());
    expect(atLimit.chunks).toHaveLength(months);
    expect(Buffer.byteLength(JSON.stringify(atLimit))).toBeLessThanOrEqual(256 * 1024);
    expect(() => planRun({ mode: 'backfill', runId, from: '1900-01-01', to: toOf(months + 1) }, new Date())).toThrow(
      `Backfill at most ${months} months per execution`,
    );
    // Through the generated ASL: the Plan state fails, no run starts.
    const { seen, outcome } = await execute({ mode: 'backfill', runId, from: '1900-01-01', to: toOf(months + 1) });
    expect(seen).toEqual([]);
    expect(outcome).toMatch(/^failed: .*over the 262144 bytes Step Functions carries between states/);
  });

  it('skips, and reports, the months of a backfill that begin after the execution started', async () => {
    const start = new Date('2026-06-30T12:00:00Z');
    expect(planRun({ mode: 'backfill', runId: 'bf', from: '2026-05-10', to: '2100-12-31' }, start)).toEqual({
      runId: 'bf',
      mode: 'backfill',
      from: '2026-05-10',
      to: '2100-12-31',
      chunks: [
        { runId: 'bf-2026-05', mode: 'backfill', from: '2026-05-10', to: '2026-05-31' },
        { runId: 'bf-2026-06', mode: 'backfill', from: '2026-06-01', to: '2026-06-30' },
      ],
      skippedAfterStart: { months: 894, from: '2026-07', to: '2100-12' },
    });
    expect(planRun({ mode: 'backfill', runId: 'bf', from: '2026-06-01', to: '2026-06-30' }, start).skippedAfterStart).toBeUndefined();
    expect(() => planRun({ mode: 'backfill', runId: 'bf', from: '2026-07-01', to: '2026-07-31' }, start)).toThrow(
      "lies after this run's start (2026-06-30)",
    );
    // Through the generated ASL: a window reaching far past today runs its past months only.
    const { seen, outcome } = await execute({ mode: 'backfill', runId: 'bf', from: '2024-02-01', to: '2999-12-31' });
    expect(outcome).toBe('succeeded');
    const months = seen.filter((entry) => entry.startsWith('ChunkExtract')).map((entry) => entry.split(':')[1].slice(-7));
    expect(months.at(-1)).toBe(new Date().toISOString().slice(0, 7));
  });

  it('hands allowEmpty to a rebuild only, as a boolean', () => {
    expect(planRun({ mode: 'rebuild', runId: 'r', allowEmpty: true }, new Date())).toEqual({
      runId: 'r',
      mode: 'rebuild',
      allowEmpty: true,
    });
    expect(planRun({ mode: 'rebuild', runId: 'r' }, new Date())).toEqual({ runId: 'r', mode: 'rebuild' });
    expect(() => planRun({ mode: 'incremental', allowEmpty: true }, new Date())).toThrow('only for {"mode": "rebuild"}');
    expect(() => planRun({ mode: 'rebuild', allowEmpty: 'yes' as never }, new Date())).toThrow('allowEmpty is a boolean');
  });

  it("gives every task a Lambda's 900 s at most, and refuses a longer task timeout", () => {
    const tasks = Object.values(definition.States).filter((state) => state['Type'] === 'Task');
    expect(Math.max(...tasks.map((state) => state['TimeoutSeconds'] as number))).toBe(STATE_MACHINE_LIMITS.lambdaTimeoutSeconds);
    expect(STATE_MACHINE_LIMITS.lambdaTimeoutSeconds).toBe(900);
    expect(() => buildStateMachineDefinition(resources, { taskTimeoutSeconds: 900 })).not.toThrow();
    expect(() => buildStateMachineDefinition(resources, { taskTimeoutSeconds: 901 })).toThrow('over the 900 s a Lambda function may run');
  });
});
