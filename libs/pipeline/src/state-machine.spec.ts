import aslValidator from 'asl-validator';
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

  it('chains Extract → Transform → Catalog → Load → Commit', () => {
    expect(definition.StartAt).toBe('Extract');
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
});
