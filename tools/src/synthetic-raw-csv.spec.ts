import { transformRun } from '@org/rewards-transform';
import { syntheticRawCsv } from './synthetic-raw-csv';

describe('syntheticRawCsv', () => {
  it('is deterministic and transforms without rejects, with the promised orphans and duplicates', () => {
    const first = syntheticRawCsv(2000);
    expect(syntheticRawCsv(2000)).toEqual(first);
    const output = transformRun(first);
    expect(output.quality.transactions).toMatchObject({ rowsIn: 2000, rejected: 0 });
    expect(output.quality.rewards.rejected).toBe(0);
    expect(output.quality.rewards.duplicatesRemoved).toBeGreaterThan(5);
    const orphans = output.quality.reward_facts.rewardsWithoutTransaction / output.quality.reward_facts.rows;
    expect(orphans).toBeGreaterThan(0.02);
    expect(orphans).toBeLessThan(0.1);
  });
});
