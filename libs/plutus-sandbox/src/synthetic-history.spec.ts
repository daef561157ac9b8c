import { findSchemaMismatch } from '@org/plutus-client/internal';
import { generateHistory, pluPrice, REJECTED_REASON } from './synthetic-history';

const start = new Date('2024-01-01T00:00:00Z');
const history = (now: string, seed = 42) => generateHistory({ seed, start, now: new Date(now) });

describe('generateHistory', () => {
  const year = history('2025-01-01T00:00:00Z');

  it('is deterministic for a seed and differs across seeds', () => {
    expect(history('2025-01-01T00:00:00Z')).toEqual(year);
    expect(history('2025-01-01T00:00:00Z', 43).transactions[0]).not.toEqual(year.transactions[0]);
  });

  it('never repeats an id across days, even where two days draw the same values (2016-10-20 and 2023-02-19, seed 42)', () => {
    const day = (iso: string) =>
      generateHistory({ seed: 42, purchasesPerDay: 82, start: new Date(`${iso}T00:00:00Z`), now: new Date(`${iso}T23:59:59Z`) });
    const [a, b] = [day('2016-10-20'), day('2023-02-19')];
    // The two days' streams overlap (the same purchases, to the millisecond of the day), which is why the id carries the day.
    const drawn = (rows: { amount: number; date: string }[]) => new Set(rows.map((row) => `${row.amount}@${row.date.slice(11)}`));
    const shared = [...drawn(a.transactions)].filter((purchase) => drawn(b.transactions).has(purchase));
    expect(shared.length).toBeGreaterThan(1);
    const ids = [...a.transactions, ...b.transactions, ...a.rewards, ...b.rewards].map((row) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('conforms to the OpenAPI document', () => {
    expect(findSchemaMismatch('Reward', year.rewards, { arrayOf: true })).toBeUndefined();
    expect(findSchemaMismatch('Transaction', year.transactions, { arrayOf: true })).toBeUndefined();
  });

  it('holds what the analysis must cope with', () => {
    const types = new Set(year.transactions.map((row) => row.type));
    expect(types).toEqual(new Set(['PURCHASE', 'REFUND', 'TOP_UP']));
    expect(new Set(year.transactions.map((row) => row.currency))).toEqual(new Set(['GBP', 'EUR']));
    expect(year.rewards.some((r) => r.rebate_rate === 0 && r.type === 'PERK')).toBe(true);
    expect(year.rewards.some((r) => r.reason === REJECTED_REASON)).toBe(true);
    expect(year.rewards.some((r) => r.available === true)).toBe(true);
    expect(year.rewards.some((r) => r.available === false && r.reason === null)).toBe(true);
    expect(year.rewards.some((r) => typeof r.fiat_amount_rewarded === 'string')).toBe(true);
    expect(year.transactions.some((row) => /[^\x20-\x7e]/.test(row.description ?? ''))).toBe(true);
    const ids = new Set(year.transactions.map((row) => row.id));
    const orphans = year.rewards.filter((r) => r.reference_type === 'card_transaction' && !ids.has(r.reference_id as string));
    expect(orphans.length).toBeGreaterThan(0); // purchases just before the window
    const lagged = year.rewards.filter((r) => {
      const tx = year.transactions.find((row) => row.id === r.reference_id);
      return tx && Date.parse(r.createdAt) - Date.parse(tx.date) > 86_400_000;
    });
    expect(lagged.length).toBeGreaterThan(0);
  });

  it('only adds rows and moves reward states when the clock moves on', () => {
    const later = history('2025-02-15T00:00:00Z');
    const laterTx = new Map(later.transactions.map((row) => [row.id, row]));
    for (const row of year.transactions) expect(laterTx.get(row.id)).toEqual(row);
    expect(later.transactions.length).toBeGreaterThan(year.transactions.length);
    const laterRewards = new Map(later.rewards.map((r) => [r.id, r]));
    let moved = 0;
    for (const reward of year.rewards) {
      const now = laterRewards.get(reward.id);
      expect(now).toBeDefined();
      expect(now?.createdAt).toBe(reward.createdAt);
      expect(now?.amount).toBe(reward.amount);
      if (now?.updatedAt !== reward.updatedAt) {
        moved += 1;
        expect(Date.parse(now?.updatedAt as string)).toBeGreaterThan(Date.parse(reward.updatedAt as string));
      }
    }
    expect(moved).toBeGreaterThan(10);
  });

  it('derives the PLU amount from the fiat value and a positive drifting price', () => {
    const prices = Array.from({ length: 365 }, (_, day) => pluPrice(42, Date.parse('2024-01-01') + day * 86_400_000, 'GBP'));
    expect(Math.min(...prices)).toBeGreaterThan(0);
    expect(new Set(prices).size).toBeGreaterThan(300);
  });
});
