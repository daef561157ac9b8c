import { transformRun } from '@org/rewards-transform';
import { syntheticRawCsv } from './synthetic-raw-csv';

describe('syntheticRawCsv', () => {
  it('is deterministic and transforms without rejects, with the promised orphans and duplicates', () => {
    const first = syntheticRawCsv(2000);
    expect(syntheticRawCsv(2000)).toEqual(first);
    const output = transformRun({ ...first, withFacts: true });
    expect(output.quality.transactions).toMatchObject({ rowsIn: 2000, rejected: 0 });
    expect(output.quality.rewards.rejected).toBe(0);
    expect(output.quality.rewards.duplicatesRemoved).toBeGreaterThan(5);
    const facts = output.quality.reward_facts as NonNullable<typeof output.quality.reward_facts>;
    const orphans = facts.rewardsWithoutTransaction / facts.rows;
    expect(orphans).toBeGreaterThan(0.02);
    expect(orphans).toBeLessThan(0.1);
  });
});
