import type { LakeDataset } from './curated-schemas';

/** A deterministic generator (a 31-bit LCG), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed % 2147483648;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/**
 * Raw rows with few keys, so most repeat: the same key at the same `updated_at` with other values (a tie the
 * version cannot break), exact copies, nulls, negative and zero amounts, instants with milliseconds.
 */
export function duplicatedRaw(rows: number, seed: number): Record<LakeDataset, string> {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
  const int = (max: number) => Math.floor(next() * max);
  const instant = () => new Date(Date.UTC(2025, 0, 1) + int(4) * 86_400_123).toISOString();
  const transactions = ['id,model,user_id,currency,amount,date,type,is_debit,description'];
  const rewards = [
    'id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_type,reference_id,type',
  ];
  for (let i = 0; i < rows; i += 1) {
    transactions.push(
      [
        `t${int(rows / 5)}`,
        'card',
        pick(['u1', '']),
        pick(['GBP', 'EUR']),
        String(pick([-1, 1]) * int(100_000)),
        instant(),
        pick(['PURCHASE', 'REFUND', '']),
        pick(['true', 'false', '']),
        pick(['TESCO', 'NETFLIX', '"A, B"', '']),
      ].join(','),
    );
    rewards.push(
      [
        `r${int(rows / 5)}`,
        pick(['0', '1.5', '0.00000001', '12345.12345678']),
        pick(['true', 'false']),
        pick(['', 'Rejected by admin']),
        '2025-01-01T00:00:00.250Z',
        pick(['2025-01-02T00:00:00.001Z', '2025-01-02T00:00:00.001Z', '2025-01-03T00:00:00Z', '']),
        pick(['0.03', '0', '']),
        pick(['', '0.5', '10.123456']),
        pick(['GBP', 'EUR', '']),
        'card_transaction',
        pick([`t${int(9)}`, '']),
        pick(['REBATE', 'PERK']),
      ].join(','),
    );
  }
  return { transactions: `${transactions.join('\n')}\n`, rewards: `${rewards.join('\n')}\n` };
}
