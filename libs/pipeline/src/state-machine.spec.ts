import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { buildStateMachineDefinition, PIPELINE_TASKS, type StateMachineResources } from './state-machine';

const resources = Object.fromEntries(
  [...PIPELINE_TASKS, 'RecordFailure'].map((task) => [task, `arn:aws:lambda:eu-west-2:123456789012:function:rewards-${task.toLowerCase()}`]),
) as StateMachineResources;

describe('buildStateMachineDefinition', () => {
  const definition = buildStateMachineDefinition(resources) as { StartAt: string; States: Record<string, Record<string, unknown>> };

  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = aslValidator(definition as never);
    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it('chains Extract → Transform → Catalog → Load → Commit, giving scheduled runs a run id first', () => {
    expect(definition.StartAt).toBe('HasRunId');
    expect(definition.States['HasRunId']).toMatchObject({ Type: 'Choice', Default: 'AssignRunId', Choices: [{ Variable: '$.runId', IsPresent: true, Next: 'Extract' }] });
    expect(definition.States['AssignRunId']).toMatchObject({ Type: 'Pass', Next: 'Extract' });
    expect(PIPELINE_TASKS.map((task) => definition.States[task]['Next'] ?? 'END')).toEqual(['Transform', 'Catalog', 'Load', 'Commit', 'END']);
    expect(definition.States['Commit']['End']).toBe(true);
  });

  it('retries only transient errors, with exponential backoff, and catches everything into RecordFailure → Fail', () => {
    for (const task of PIPELINE_TASKS) {
      const state = definition.States[task] as { Retry: { ErrorEquals: string[]; BackoffRate: number }[]; Catch: { ErrorEquals: string[]; Next: string; ResultPath: string }[] };
      expect(state.Retry).toHaveLength(1);
      expect(state.Retry[0].ErrorEquals).toContain('TransientError');
      expect(state.Retry[0].ErrorEquals).not.toContain('States.ALL');
      expect(state.Retry[0].ErrorEquals.some((name) => /Auth|Schema|Validation/.test(name))).toBe(false);
      expect(state.Retry[0].BackoffRate).toBeGreaterThan(1);
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    }
    expect(definition.States['RecordFailure']).toMatchObject({ Type: 'Task', Resource: resources.RecordFailure, Next: 'Failed' });
    expect(definition.States['Failed']['Type']).toBe('Fail');
  });

  it('takes retry settings', () => {
    const quick = buildStateMachineDefinition(resources, { maxRetries: 1, retryIntervalSeconds: 2 }) as typeof definition;
    expect((quick.States['Load'] as { Retry: object[] }).Retry[0]).toMatchObject({ MaxAttempts: 1, IntervalSeconds: 2 });
  });

  it('runs end to end: a scheduled start gets a run id; a failing step goes through RecordFailure to Fail', async () => {
    const seen: string[] = [];
    const handlers = (failAt?: string) =>
      Object.fromEntries(
        [...PIPELINE_TASKS, 'RecordFailure'].map((task) => [
          task,
          async (input: { runId: string }) => {
            seen.push(`${task}:${input.runId}`);
            if (task === failAt) throw Object.assign(new Error('bad row'), { name: 'RowValidationError' });
            return { runId: input.runId };
          },
        ]),
      );
    const machine = new StateMachine(definition as never);
    const context = { Execution: { Name: 'exec-1' } };
    await machine.run({ mode: 'incremental' } as never, { overrides: { taskResourceLocalHandlers: handlers() as never }, context: context as never }).result;
    expect(seen[0]).toMatch(/^Extract:\d{4}-\d{2}-\d{2}T.*-exec-1$/);
    expect(seen.map((entry) => entry.split(':')[0])).toEqual(['Extract', 'Transform', 'Catalog', 'Load', 'Commit']);

    seen.length = 0;
    const failing = machine.run({ runId: 'r1', mode: 'incremental' } as never, { overrides: { taskResourceLocalHandlers: handlers('Load') as never } });
    await expect(failing.result).rejects.toThrow();
    // Not retried (not transient), recorded, then failed.
    expect(seen).toEqual(['Extract:r1', 'Transform:r1', 'Catalog:r1', 'Load:r1', 'RecordFailure:r1']);
  });
});
