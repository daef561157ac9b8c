/**
 * Raw CSV for benchmarks, shaped like what extract lands: `rows` transactions and `rows` rewards, about 5% of
 * rewards pointing at no transaction, 1% duplicate reward ids, 2% perks with rebate_rate 0, some rejected.
 * Deterministic (a linear congruential generator), so runs compare.
 */
export interface SyntheticRawCsv {
  transactionsCsv: string;
  rewardsCsv: string;
}

const MERCHANTS = ['TESCO STORES 3291 LONDON GB', 'PRET A MANGER', 'TFL TRAVEL CH', 'AMAZON.CO.UK*2K4LM', 'CAFFÈ NERO 0412', 'SNCF PARIS'];
const DAY_MS = 86_400_000;

export function syntheticRawCsv(rows: number, seed = 12345): SyntheticRawCsv {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const base = Date.parse('2022-01-01T00:00:00Z');
  const transactions = ['id,model,user_id,currency,amount,date,type,is_debit,description'];
  const rewards = [
    'id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_type,reference_id,type',
  ];
  for (let i = 0; i < rows; i += 1) {
    const at = base + Math.floor(random() * 3 * 365 * DAY_MS);
    const amount = 100 + Math.floor(random() * 20_000);
    const date = new Date(at).toISOString().replace('Z', '+00:00');
    transactions.push(
      `t-${i},card_transaction,u1,${i % 10 === 0 ? 'EUR' : 'GBP'},-${amount},${date},PURCHASE,true,${MERCHANTS[i % MERCHANTS.length]}`,
    );
    const reference = random() < 0.05 ? `missing-${i}` : `t-${Math.floor(random() * rows)}`;
    const perk = i % 50 === 0;
    const fiat = perk ? '10.00' : ((amount / 100) * 0.03).toFixed(4);
    const created = new Date(at + DAY_MS).toISOString();
    const updated = new Date(at + 46 * DAY_MS).toISOString();
    const id = random() < 0.01 && i > 0 ? `r-${i - 1}` : `r-${i}`;
    const plu = (Number(fiat) / 4.2).toFixed(6);
    rewards.push(
      `${id},${plu},${i % 3 === 0},${i % 40 === 0 ? 'Rejected by admin' : ''},${created},${updated},${perk ? 0 : 0.03},${fiat},GBP,card_transaction,${reference},${perk ? 'PERK' : 'REBATE'}`,
    );
  }
  return { transactionsCsv: `${transactions.join('\n')}\n`, rewardsCsv: `${rewards.join('\n')}\n` };
}
