import { quoteLiteral, type SqlDialect } from '@org/sql-dialect';
import { MONEY_SCALE, PLU_SCALE, RATE_SCALE, REWARD_FACTS_SCHEMA, REWARDS_SCHEMA } from './curated-schemas';
import { KeyIndex, type KeyLookup } from '../engine/key-index';
import type { Column, Table } from '../engine/table';

/**
 * `reward_facts`: each reward left-joined to its card transaction (reference_id = transaction_id) plus the
 * derived analysis columns. This file is the one definition of every derived column, twice over: the
 * TypeScript below (`buildRewardFacts`, for in-memory use and as the test oracle) and the SQL beside it
 * (`rewardFactsSqlExpressions`, which the warehouses run for the keys a load touched). A differential test
 * proves the two equal, column by column, on DuckDB. Keep them side by side: change one, change the other.
 *
 * The definitions:
 * - reward_amount: fiat_amount_rewarded when the API states it, else transaction_amount * rebate_rate rounded
 *   to 6 decimals, half away from zero (exact decimal arithmetic on both sides).
 * - plu_price (double): fiat per PLU at award time; null, with plu_price_note saying why, when plu_amount is
 *   zero, rebate_rate is missing, a fixed-amount perk (rate 0) states no fiat value, or a rebate has no
 *   transaction. Perks: fiat_amount_rewarded / plu_amount; rebates: transaction_amount * rebate_rate / plu_amount,
 *   each operand first converted to a double.
 * - effective_reward_rate (double): reward_amount / transaction_amount, when the transaction is there and > 0.
 * - is_rejected: reason contains "rejected", any case.
 * - reward_month: YYYY-MM of created_at in UTC.
 */

export interface RewardFactsResult {
  table: Table;
  withoutTransaction: number;
  /** Rows whose plu_price is null, by the note that says why. */
  pluPriceNullByNote: Record<string, number>;
}

export const PLU_PRICE_NOTES = {
  zeroPlu: 'plu_amount is zero',
  noRate: 'rebate_rate missing',
  noFiat: 'fiat_amount_rewarded missing',
  noTransaction: 'no transaction for a rebate',
} as const;

const REJECTED = /rejected/i;
const ROUNDING_DIVISOR = 10 ** (2 + RATE_SCALE - MONEY_SCALE);
const ROUNDING_DIVISOR_BIG = BigInt(ROUNDING_DIVISOR);

/**
 * transaction_amount (scale 2) * rebate_rate (scale 8) is scale 10; to scale 6, rounded half away from zero,
 * as SQL's ROUND does on a DECIMAL. Exact: past 2^53 the product is done in BigInt.
 */
export function rebateRewardScaled(amountScaled2: number, rateScaled8: number): number {
  const product = amountScaled2 * rateScaled8;
  const magnitudeSafe = Math.abs(product);
  if (magnitudeSafe <= Number.MAX_SAFE_INTEGER) {
    // % and the division of an exact multiple are exact on doubles; a plain Math.round(p / d) is not near 2^53.
    const remainder = magnitudeSafe % ROUNDING_DIVISOR;
    const quotient = (magnitudeSafe - remainder) / ROUNDING_DIVISOR + (remainder * 2 >= ROUNDING_DIVISOR ? 1 : 0);
    return product < 0 ? -quotient : quotient;
  }
  const exact = BigInt(amountScaled2) * BigInt(rateScaled8);
  const negative = exact < 0n;
  const magnitude = negative ? -exact : exact;
  let quotient = magnitude / ROUNDING_DIVISOR_BIG;
  if ((magnitude % ROUNDING_DIVISOR_BIG) * 2n >= ROUNDING_DIVISOR_BIG) quotient += 1n;
  return Number(negative ? -quotient : quotient);
}

/**
 * Left-joins each reward to its card transaction and derives the analysis columns, in memory. A hash index on
 * the transactions makes the join one pass over each side. `transactionRows` is the index if the caller has
 * one already (de-duplication builds it); it must map each transaction_id to its row in `transactions`.
 * Never writes NaN or Infinity: a value that cannot be computed is null, and plu_price_note says why.
 */
export function buildRewardFacts(rewards: Table, transactions: Table, transactionRows?: KeyLookup): RewardFactsResult {
  const builder = rewardFactsBuilder(rewards, transactions, transactionRows);
  builder.fill(0, rewards.length);
  return builder.result();
}

/** `buildRewardFacts` a range of rows at a time: the facts of rows [from, to) are in `table` once `fill(from, to)` ran. */
export interface RewardFactsBuilder {
  /** Every column at its full length, the rows filled so far. */
  table: Table;
  fill(from: number, to: number): void;
  /** Once every row is filled. */
  result(): RewardFactsResult;
}

/**
 * The facts of `buildRewardFacts`, derived in ranges of rows, so a writer can take the first rows while the later
 * ones are derived. Ranges may come in any order; each row is filled once.
 */
export function rewardFactsBuilder(rewards: Table, transactions: Table, transactionRows?: KeyLookup): RewardFactsBuilder {
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

  // Decimals are scaled integers; a double is the value divided by 10^scale, as a DECIMAL-to-DOUBLE cast gives.
  const moneyUnit = 10 ** MONEY_SCALE;
  const pluUnit = 10 ** PLU_SCALE;
  const rateUnit = 10 ** RATE_SCALE;
  const monthCache = new Map<number, string>();

  const fill = (from: number, to: number): void => {
    for (let i = from; i < to; i += 1) {
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

      const rate = rebate[i];
      let reward = fiat[i];
      if (Number.isNaN(reward) && found && !Number.isNaN(rate)) reward = rebateRewardScaled(transactionAmount[i], rate);
      rewardAmount[i] = reward;

      let price = Number.NaN;
      let note: string | null = null;
      if (plu[i] === 0) note = PLU_PRICE_NOTES.zeroPlu;
      else if (Number.isNaN(rate)) note = PLU_PRICE_NOTES.noRate;
      else if (rate === 0) {
        if (Number.isNaN(fiat[i])) note = PLU_PRICE_NOTES.noFiat;
        else price = fiat[i] / moneyUnit / (plu[i] / pluUnit);
      } else if (!found) note = PLU_PRICE_NOTES.noTransaction;
      else price = ((transactionAmount[i] / 100) * (rate / rateUnit)) / (plu[i] / pluUnit);
      if (note !== null) nullByNote[note] = (nullByNote[note] ?? 0) + 1;
      pluPrice[i] = price;
      pluPriceNote[i] = note;

      effectiveRate[i] =
        found && transactionAmount[i] > 0 && !Number.isNaN(reward) ? reward / moneyUnit / (transactionAmount[i] / 100) : Number.NaN;
      isRejected[i] = reason[i] !== null && REJECTED.test(reason[i] as string);

      const day = Math.floor(created[i] / 86_400_000);
      let month = monthCache.get(day);
      if (month === undefined) monthCache.set(day, (month = new Date(created[i]).toISOString().slice(0, 7)));
      rewardMonth[i] = month;
    }
  };

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
  const table = { length: n, columns };
  return { table, fill, result: () => ({ table, withoutTransaction, pluPriceNullByNote: nullByNote }) };
}

/**
 * Each derived column as a SQL expression over `r` (a rewards row) and `t` (its transaction, all NULL when
 * absent), keyed by column name. The TypeScript of each is in `buildRewardFacts` above.
 */
export function rewardFactsSqlExpressions(dialect: SqlDialect): Record<string, string> {
  const asDouble = (expression: string) => `CAST(${expression} AS ${dialect.doubleType})`;
  const found = 't."transaction_id" IS NOT NULL';
  // Widened first: DuckDB keeps DECIMAL(18,2) * DECIMAL(12,8) within 18 digits and overflows on large spend.
  const rewardAmount =
    `CASE WHEN r."fiat_amount_rewarded" IS NOT NULL THEN r."fiat_amount_rewarded" ` +
    `WHEN ${found} AND r."rebate_rate" IS NOT NULL THEN CAST(ROUND(CAST(t."transaction_amount" AS DECIMAL(38,2)) * CAST(r."rebate_rate" AS DECIMAL(38,${RATE_SCALE})), ${MONEY_SCALE}) AS DECIMAL(18,${MONEY_SCALE})) END`;
  return {
    has_transaction: `(${found})`,
    merchant: 't."description"',
    merchant_category: 't."merchant_category"',
    transaction_date: 't."transaction_date"',
    transaction_currency: 't."currency"',
    transaction_amount: 't."transaction_amount"',
    reward_amount: rewardAmount,
    plu_price:
      `CASE WHEN r."plu_amount" = 0 OR r."rebate_rate" IS NULL THEN NULL ` +
      `WHEN r."rebate_rate" = 0 THEN ${asDouble('r."fiat_amount_rewarded"')} / ${asDouble('r."plu_amount"')} ` +
      `WHEN ${found} THEN ${asDouble('t."transaction_amount"')} * ${asDouble('r."rebate_rate"')} / ${asDouble('r."plu_amount"')} END`,
    plu_price_note:
      `CASE WHEN r."plu_amount" = 0 THEN ${quoteLiteral(PLU_PRICE_NOTES.zeroPlu)} ` +
      `WHEN r."rebate_rate" IS NULL THEN ${quoteLiteral(PLU_PRICE_NOTES.noRate)} ` +
      `WHEN r."rebate_rate" = 0 THEN CASE WHEN r."fiat_amount_rewarded" IS NULL THEN ${quoteLiteral(PLU_PRICE_NOTES.noFiat)} END ` +
      `WHEN NOT (${found}) THEN ${quoteLiteral(PLU_PRICE_NOTES.noTransaction)} END`,
    effective_reward_rate: `CASE WHEN ${found} AND t."transaction_amount" > 0 THEN ${asDouble(`(${rewardAmount})`)} / ${asDouble('t."transaction_amount"')} END`,
    is_rejected: `COALESCE(LOWER(r."reason") LIKE '%rejected%', FALSE)`,
    reward_month: dialect.utcMonth('r."created_at"'),
  };
}

/**
 * `SELECT` of reward_facts rows in REWARD_FACTS_SCHEMA order: the rewards in `rewards` left-joined to
 * `transactions`; with `referencedBy` (a table or parenthesised query with a `reference_id` column, usually `rewards` itself) only the
 * transactions it cites are read. Table names are passed in already quoted.
 */
export function rewardFactsSelectSql(options: {
  dialect: SqlDialect;
  rewards: string;
  transactions: string;
  referencedBy?: string;
}): string {
  const expressions = rewardFactsSqlExpressions(options.dialect);
  const rewardColumns = new Set(REWARDS_SCHEMA.map((spec) => spec.name));
  const select = REWARD_FACTS_SCHEMA.map((spec) =>
    rewardColumns.has(spec.name) ? `r."${spec.name}"` : `${expressions[spec.name]} AS "${spec.name}"`,
  );
  // Narrowed before the join, so its cost follows the rewards given, not the size of the transactions table.
  const transactions = options.referencedBy
    ? `(SELECT * FROM ${options.transactions} WHERE "transaction_id" IN (SELECT "reference_id" FROM ${options.referencedBy} AS referencing))`
    : options.transactions;
  return `SELECT ${select.join(',\n  ')}\nFROM ${options.rewards} AS r\nLEFT JOIN ${transactions} AS t ON t."transaction_id" = r."reference_id"`;
}
