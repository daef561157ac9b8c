import { EMPTY_CURSOR } from './cursor-state';
import { summarizeDataHealth } from './data-health';
import { openRunManifest, type RunManifest } from './run-manifest';

const run = (runId: string, startedAt: string, edit: (manifest: RunManifest) => void): RunManifest => {
  const manifest = openRunManifest({ runId, mode: 'incremental', now: new Date(startedAt) });
  edit(manifest);
  return manifest;
};

describe('data health from the manifests', () => {
  it('reports freshness, the last reconciliation and source check, quarantine by reason over every run, and the last 30 days of runs', () => {
    const quality = (reasons: Record<string, number>) => ({
      transactions: { rowsIn: 0, rowsOut: 0, rejected: 0, rejectedByReason: {}, duplicatesRemoved: 0, nullRates: {} },
      rewards: { rowsIn: 0, rowsOut: 0, rejected: 0, rejectedByReason: reasons, duplicatesRemoved: 0, nullRates: {} },
    });
    const manifests = [
      run('old', '2026-09-01T00:00:00Z', (m) => {
        m.status = 'succeeded';
        m.quality = quality({ 'amount not a number': 2 });
      }),
      run('r1', '2026-11-20T00:00:00Z', (m) => {
        m.status = 'succeeded';
        m.finishedAt = '2026-11-20T00:05:00.000Z';
        m.quality = quality({ 'amount not a number': 1, 'missing id': 4 });
        m.steps.extract = { status: 'succeeded', startedAt: m.startedAt, counts: { transactions: 40, rewards: 12 } };
        m.sourceCheck = {
          before: '2026-11-01T00:00:00.000Z',
          source: 10,
          lake: 9,
          months: [{ month: '2026-03', source: 5, lake: 4 }],
          repulled: ['2026-03'],
          known: [],
          deferred: [],
        };
        m.steps.load = {
          status: 'succeeded',
          startedAt: m.startedAt,
          finishedAt: '2026-11-20T00:04:00.000Z',
          counts: { ledger_runs_before: 3, committed_runs_replayed: 1, facts_rederived: 0 },
        };
      }),
      run('r2', '2026-11-21T00:00:00Z', (m) => {
        m.status = 'failed';
        m.error = { step: 'load', name: 'WarehouseDisagreesError', message: 'rows changed by hand' };
      }),
    ];
    const health = summarizeDataHealth(
      manifests,
      { ...EMPTY_CURSOR, transactionsThrough: '2026-11-19T10:00:00.000Z' },
      new Date('2026-11-28T00:00:00Z'),
    );
    expect(health.newest.transaction).toBe('2026-11-19T10:00:00.000Z');
    expect(health.lastSuccessfulRun).toEqual({ runId: 'r1', mode: 'incremental', finishedAt: '2026-11-20T00:05:00.000Z' });
    expect(health.lastReconciliation).toMatchObject({
      runId: 'r1',
      ledgerRuns: 3,
      runsReplayed: 1,
      sourceMonthsDiffering: 1,
      monthsRepulled: ['2026-03'],
    });
    expect(health.quarantined).toEqual([
      { dataset: 'rewards', reason: 'missing id', rows: 4 },
      { dataset: 'rewards', reason: 'amount not a number', rows: 3 },
    ]);
    expect(health.recentRuns.map((r) => [r.runId, r.status, r.error])).toEqual([
      ['r2', 'failed', 'load: WarehouseDisagreesError'],
      ['r1', 'succeeded', undefined],
    ]);
  });
});
