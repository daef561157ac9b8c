import { ChangedRewardIds, lakeRewardSummaryWithout, SOURCE_CHECK_BOUNDS } from './source-check';
import type { RewardMonthSummary } from './ports';

/** Rewards as the warehouse holds them: an id and its `updated_at`. */
const held = Array.from({ length: 9_000 }, (_, index) => ({
  id: `r${String(index).padStart(5, '0')}`,
  updatedAt: Date.UTC(2026, index % 5, 1 + (index % 27), index % 24, index % 60, index % 60) + (index % 1000),
}));

/** The port's contract: the rewards changed before `before`, by UTC month, leaving out `excludeIds`. */
function summaryOf(rows: typeof held, before: string, excludeIds: readonly string[] = []): RewardMonthSummary {
  const excluded = new Set(excludeIds);
  const out: RewardMonthSummary = {};
  for (const row of rows) {
    if (excluded.has(row.id) || row.updatedAt >= Date.parse(before)) continue;
    const month = new Date(row.updatedAt).toISOString().slice(0, 7);
    const figures = (out[month] ??= { rows: 0, seconds: 0 });
    figures.rows += 1;
    figures.seconds += Math.trunc(row.updatedAt / 1000);
  }
  return out;
}

describe('the lake side of the rewards check', () => {
  const before = '2026-05-01T00:00:00.000Z';
  const calls: (readonly string[] | undefined)[] = [];
  const warehouse = {
    rewardMonthSummary: async (until: string, excludeIds?: readonly string[]) => {
      calls.push(excludeIds);
      return summaryOf(held, until, excludeIds);
    },
  };

  beforeEach(() => (calls.length = 0));

  it('leaves out more changed rewards than one statement holds, batch by batch, with the same figures as all at once', async () => {
    // Every third reward, and every reward of one month, so that month drops out whole.
    const ids = held.filter((row, index) => index % 3 === 0 || new Date(row.updatedAt).getUTCMonth() === 2).map((row) => row.id);
    expect(ids.length).toBeGreaterThan(2 * SOURCE_CHECK_BOUNDS.changedKeysExcluded);
    const summary = await lakeRewardSummaryWithout(warehouse, before, ids);
    expect(summary).toEqual(summaryOf(held, before, ids));
    expect(summary['2026-03']).toBeUndefined();
    expect(calls.every((batch) => (batch?.length ?? 0) <= SOURCE_CHECK_BOUNDS.changedKeysExcluded)).toBe(true);
    expect(calls.length).toBe(1 + Math.ceil(ids.length / SOURCE_CHECK_BOUNDS.changedKeysExcluded));
  });

  it('asks once when the ids fit one statement', async () => {
    const ids = held.slice(0, 10).map((row) => row.id);
    expect(await lakeRewardSummaryWithout(warehouse, before, ids)).toEqual(summaryOf(held, before, ids));
    expect(calls).toEqual([ids]);
  });

  it('gathers changed ids up to its limit, then gives up on them (the run compares later, verify says so)', () => {
    const changed = new ChangedRewardIds(3);
    changed.add([{ id: 'a' }, { id: 'b' }, { id: 'a' }, { id: 7 }]);
    expect([...changed.ids]).toEqual(['a', 'b']);
    changed.add([{ id: 'c' }, { id: 'd' }]);
    expect(changed.overflow).toBe(true);
    expect(changed.ids.size).toBe(0);
    changed.reset();
    expect(changed.overflow).toBe(false);
    expect(new ChangedRewardIds().limit).toBe(SOURCE_CHECK_BOUNDS.changedKeysExcluded);
  });
});
