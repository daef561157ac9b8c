import { MONEY_SCALE, PLU_SCALE, RATE_SCALE, REWARD_FACTS_SCHEMA } from './curated-schemas';
import { KeyIndex, type KeyLookup } from './key-index';
import type { Column, Table } from './table';

export interface RewardFactsResult {
  table: Table;
  withoutTransaction: number;
  /** Rows whose plu_price is null, by the note that says why. */
  pluPriceNullByNote: Record<string, number>;
}

const REJECTED = /rejected/i;

/**
 * Left-joins each reward to its card transaction (reference_id = transaction_id) and derives the analysis
 * columns. A hash index on the transactions makes the join one pass over each side. Pass every curated
 * transaction known, not only this run's, so a reward whose transaction arrived earlier still joins.
 * Never writes NaN or Infinity: a value that cannot be computed is null, and plu_price_note says why.
 * `transactionRows` is the index if the caller has one already (de-duplication builds it); it must map each
 * transaction_id to its row in `transactions`.
 */
export function buildRewardFacts(rewards: Table, transactions: Table, transactionRows?: KeyLookup): RewardFactsResult {
  const index = transactionRows ?? KeyIndex.of(transactions.columns['transaction_id'] as string[]);

  const txDescription = transactions.columns['description'] as (string | null)[];
  const txCategory = transactions.columns['merchant_category'] as string[];
  const txDate = transactions.columns['transaction_date'] as Float64Array;
  const txCurrency = transactions.columns['currency'] as string[];
  const txAmount = transactions.columns['transaction_amount'] as Float64Array;

  const n = rewards.length;
  const referenceId = rewards.columns['reference_id'] as (string | null)[];
  const plu = rewards.columns['plu_amount'] as Float64Array;
  const rebate = rewards.columns['rebate_rate'] as Float64Array;
  const fiat = rewards.columns['fiat_amount_rewarded'] as Float64Array;
  const reason = rewards.columns['reason'] as (string | null)[];
  const created = rewards.columns['created_at'] as Float64Array;

  const hasTransaction: boolean[] = new Array(n);
  const merchant: (string | null)[] = new Array(n);
  const category: (string | null)[] = new Array(n);
  const transactionDate = new Float64Array(n);
  const transactionCurrency: (string | null)[] = new Array(n);
  const transactionAmount = new Float64Array(n);
  const rewardAmount = new Float64Array(n);
  const pluPrice = new Float64Array(n);
  const pluPriceNote: (string | null)[] = new Array(n);
  const effectiveRate = new Float64Array(n);
  const isRejected: boolean[] = new Array(n);
  const rewardMonth: string[] = new Array(n);
  const nullByNote: Record<string, number> = {};
  let withoutTransaction = 0;

  const moneyUnit = 10 ** MONEY_SCALE;
  const pluUnit = 10 ** PLU_SCALE;
  const rateUnit = 10 ** RATE_SCALE;
  const monthCache = new Map<number, string>();

  for (let i = 0; i < n; i += 1) {
    const ref = referenceId[i];
    const j = ref === null ? -1 : index.rowOf(ref);
    const found = j >= 0;
    hasTransaction[i] = found;
    if (found) {
      merchant[i] = txDescription[j];
      category[i] = txCategory[j];
      transactionDate[i] = txDate[j];
      transactionCurrency[i] = txCurrency[j];
      transactionAmount[i] = txAmount[j];
    } else {
      withoutTransaction += 1;
      merchant[i] = null;
      category[i] = null;
      transactionDate[i] = Number.NaN;
      transactionCurrency[i] = null;
      transactionAmount[i] = Number.NaN;
    }

    // reward_amount (scale 6): the fiat value the API states, else the rebate on the transaction amount.
    // amount (scale 2) * rate (scale 8) is scale 10; dividing by 10^4 lands on scale 6, rounded half up.
    const rate = rebate[i];
    let reward = fiat[i];
    if (Number.isNaN(reward) && found && !Number.isNaN(rate)) {
      reward = Math.round((transactionAmount[i] * rate) / 10 ** (2 + RATE_SCALE - MONEY_SCALE));
    }
    rewardAmount[i] = reward;

    let price = Number.NaN;
    let note: string | null = null;
    const pluValue = plu[i] / pluUnit;
    if (plu[i] === 0) note = 'plu_amount is zero';
    else if (Number.isNaN(rate)) note = 'rebate_rate missing';
    else if (rate === 0) {
      if (Number.isNaN(fiat[i])) note = 'fiat_amount_rewarded missing';
      else price = fiat[i] / moneyUnit / pluValue;
    } else if (!found) note = 'no transaction for a rebate';
    else price = ((transactionAmount[i] / 100) * (rate / rateUnit)) / pluValue;
    if (note === null && !Number.isFinite(price)) note = 'plu_price not finite';
    if (note !== null) {
      price = Number.NaN;
      nullByNote[note] = (nullByNote[note] ?? 0) + 1;
    }
    pluPrice[i] = price;
    pluPriceNote[i] = note;

    effectiveRate[i] =
      found && transactionAmount[i] > 0 && !Number.isNaN(reward) ? reward / moneyUnit / (transactionAmount[i] / 100) : Number.NaN;
    isRejected[i] = reason[i] !== null && REJECTED.test(reason[i] as string);

    const monthStart = Math.floor(created[i] / 86_400_000);
    let month = monthCache.get(monthStart);
    if (month === undefined) monthCache.set(monthStart, (month = new Date(created[i]).toISOString().slice(0, 7)));
    rewardMonth[i] = month;
  }

  const derived: Record<string, Column> = {
    has_transaction: hasTransaction,
    merchant,
    merchant_category: category,
    transaction_date: transactionDate,
    transaction_currency: transactionCurrency,
    transaction_amount: transactionAmount,
    reward_amount: rewardAmount,
    plu_price: pluPrice,
    plu_price_note: pluPriceNote,
    effective_reward_rate: effectiveRate,
    is_rejected: isRejected,
    reward_month: rewardMonth,
  };
  const columns: Record<string, Column> = {};
  for (const spec of REWARD_FACTS_SCHEMA) columns[spec.name] = derived[spec.name] ?? rewards.columns[spec.name];
  return { table: { length: n, columns }, withoutTransaction, pluPriceNullByNote: nullByNote };
}
