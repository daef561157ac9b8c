import type { Reward, Transaction } from '@org/plutus-client';
import { MERCHANTS, PERK_SUBSCRIPTIONS, type Merchant } from './merchants';
import { between, mixSeed, pick, seededRandom, seededUuid } from './seeded-random';

/** What the sandbox serves: the rewards ledger and the card transactions, in the API's own shapes. */
export interface SandboxDataset {
  rewards: Reward[];
  transactions: Transaction[];
}

export interface SyntheticHistoryOptions {
  seed: number;
  /** First instant of the card history. */
  start: Date;
  /** The sandbox's clock: nothing after it exists yet, and reward states are as of it. */
  now: Date;
  /** Mean card purchases per day. Default 2.5. */
  purchasesPerDay?: number;
}

const DAY_MS = 86_400_000;
const VESTING_DAYS = 45;
const REBATE_RATE = 0.03;
export const REJECTED_REASON = 'Rejected by admin';

/**
 * A deterministic card history. Every calendar day draws from its own stream seeded by (seed, day), so the
 * same day always holds the same purchases whatever the window: moving `now` forward only adds new rows and
 * moves reward states on (vesting after 45 days, rejections), exactly what incremental loads must handle.
 */
export function generateHistory(options: SyntheticHistoryOptions): SandboxDataset {
  const { seed } = options;
  const startMs = options.start.getTime();
  const nowMs = options.now.getTime();
  const purchasesPerDay = options.purchasesPerDay ?? 2.5;
  const userId = seededUuid(seededRandom(mixSeed(seed, 1)));
  const transactions: Transaction[] = [];
  const rewards: Reward[] = [];
  const merchantWeights = cumulativeWeights(MERCHANTS);

  const addTransaction = (tx: TransactionDraft, atMs: number) => {
    if (atMs >= startMs && atMs <= nowMs) transactions.push({ ...tx, model: 'card_transaction', user_id: userId });
  };
  const addReward = (draft: RewardDraft) => {
    if (draft.createdAtMs > nowMs || draft.createdAtMs < startMs) return;
    rewards.push(rewardAsOf(draft, nowMs));
  };

  // Start a week early: rewards created inside the window for purchases just before it have no transaction.
  const firstDay = Math.floor(startMs / DAY_MS) - 7;
  const lastDay = Math.floor(nowMs / DAY_MS);
  for (let day = firstDay; day <= lastDay; day += 1) {
    const random = seededRandom(mixSeed(seed, day));
    const dayStartMs = day * DAY_MS;
    const purchases = Math.floor(random() * (2 * purchasesPerDay + 1));
    for (let i = 0; i < purchases; i += 1) {
      const merchant = pickWeighted(random, MERCHANTS, merchantWeights);
      const atMs = dayStartMs + Math.floor(between(random, 7, 23) * 3_600_000);
      const amountMinor = Math.round(between(random, merchant.minMinor, merchant.maxMinor));
      const id = dayUuid(random, day);
      addTransaction(purchase(id, merchant.currency, amountMinor, atMs, merchant.description), atMs);

      const createdAtMs = atMs + Math.floor(between(random, 0.2, 5) * DAY_MS);
      const refunded = random() < 0.03;
      const refundAtMs = atMs + Math.floor(between(random, 2, 10) * DAY_MS);
      if (refunded) {
        addTransaction(
          {
            id: dayUuid(random, day),
            currency: merchant.currency,
            amount: amountMinor,
            date: hasuraTimestamp(refundAtMs),
            type: 'REFUND',
            is_debit: false,
            description: `REFUND ${merchant.description}`,
          },
          refundAtMs,
        );
      }
      const zeroReward = random() < 0.005;
      const fiat = zeroReward ? 0 : round((amountMinor / 100) * REBATE_RATE, 2);
      const price = pluPrice(seed, createdAtMs, merchant.currency);
      const adminRejected = random() < 0.015;
      addReward({
        id: dayUuid(random, day),
        plu: round(fiat / price, 6),
        fiat,
        rebateRate: REBATE_RATE,
        currency: merchant.currency,
        referenceType: 'card_transaction',
        referenceId: id,
        type: 'REBATE',
        createdAtMs,
        rejectAtMs: refunded
          ? Math.max(refundAtMs, createdAtMs) + DAY_MS
          : adminRejected
            ? createdAtMs + Math.floor(between(random, 1, 20) * DAY_MS)
            : undefined,
        fiatAsText: random() < 0.3,
      });
    }

    const dayOfMonth = new Date(dayStartMs).getUTCDate();
    for (const perk of PERK_SUBSCRIPTIONS) {
      if (dayOfMonth !== perk.dayOfMonth) continue;
      const atMs = dayStartMs + 6 * 3_600_000;
      const id = dayUuid(random, day);
      addTransaction(purchase(id, 'GBP', perk.amountMinor, atMs, perk.description), atMs);
      const createdAtMs = atMs + Math.floor(between(random, 1, 4) * DAY_MS);
      const fiat = Math.min(perk.amountMinor, perk.perkCapMinor) / 100;
      addReward({
        id: dayUuid(random, day),
        plu: round(fiat / pluPrice(seed, createdAtMs, 'GBP'), 6),
        fiat,
        rebateRate: 0,
        currency: 'GBP',
        referenceType: 'card_transaction',
        referenceId: id,
        type: 'PERK',
        createdAtMs,
        fiatAsText: random() < 0.3,
      });
    }

    if ((day + seed) % 11 === 0) {
      const atMs = dayStartMs + 9 * 3_600_000;
      addTransaction(
        {
          id: dayUuid(random, day),
          currency: 'GBP',
          amount: Math.round(between(random, 200, 500)) * 100,
          date: hasuraTimestamp(atMs),
          type: 'TOP_UP',
          is_debit: false,
          description: 'TOP UP FROM BANK ACCOUNT',
        },
        atMs,
      );
    }

    if (random() < 0.01) {
      const createdAtMs = dayStartMs + 12 * 3_600_000;
      addReward({
        id: dayUuid(random, day),
        plu: round(10 / pluPrice(seed, createdAtMs, 'GBP'), 6),
        fiat: 10,
        rebateRate: 0,
        currency: 'GBP',
        referenceType: 'referral',
        referenceId: null,
        type: 'REFERRAL',
        createdAtMs,
        fiatAsText: random() < 0.3,
      });
    }
  }
  return { rewards, transactions };
}

/**
 * An id drawn from the day's stream, its first eight hexadecimal digits the day itself. The days' streams are
 * windows of one 2^32 cycle, so over a long history two days' windows can overlap and draw the same values: the
 * day in the id keeps every id of the history unique whatever the streams do.
 */
function dayUuid(random: () => number, day: number): string {
  return `${(day >>> 0).toString(16).padStart(8, '0')}${seededUuid(random).slice(8)}`;
}

/** Fiat per PLU on a given instant: a slow drift plus daily noise, deterministic per seed. */
export function pluPrice(seed: number, atMs: number, currency: string): number {
  const day = Math.floor(atMs / DAY_MS);
  const noise = seededRandom(mixSeed(seed, day, 7))() - 0.5;
  const gbp = Math.max(0.5, 4 + 1.5 * Math.sin(day / 45) + 0.8 * Math.sin(day / 13 + 1.3) + 0.3 * noise);
  return round(currency === 'EUR' ? gbp * 1.16 : gbp, 4);
}

interface TransactionDraft {
  id: string;
  currency: string;
  amount: number;
  date: string;
  type: string;
  is_debit: boolean;
  description: string;
}

interface RewardDraft {
  id: string;
  plu: number;
  fiat: number;
  rebateRate: number;
  currency: string;
  referenceType: string;
  referenceId: string | null;
  type: string;
  createdAtMs: number;
  rejectAtMs?: number;
  /** The live API sends fiat_amount_rewarded sometimes as a number, sometimes as a numeric string. */
  fiatAsText: boolean;
}

/** The ledger entry as the API shows it at `nowMs`: pending, vested (available), or rejected. */
function rewardAsOf(draft: RewardDraft, nowMs: number): Reward {
  const vestAtMs = draft.createdAtMs + VESTING_DAYS * DAY_MS;
  let available = false;
  let reason: string | null = null;
  let updatedAtMs = draft.createdAtMs;
  if (draft.rejectAtMs !== undefined && draft.rejectAtMs <= nowMs && draft.rejectAtMs < vestAtMs) {
    reason = REJECTED_REASON;
    updatedAtMs = draft.rejectAtMs;
  } else if (vestAtMs <= nowMs) {
    available = true;
    updatedAtMs = vestAtMs;
  }
  return {
    id: draft.id,
    amount: draft.plu,
    available,
    reason,
    createdAt: new Date(draft.createdAtMs).toISOString(),
    updatedAt: new Date(updatedAtMs).toISOString(),
    rebate_rate: draft.rebateRate,
    fiat_amount_rewarded: draft.fiatAsText ? draft.fiat.toFixed(2) : draft.fiat,
    currency: draft.currency,
    reference_type: draft.referenceType,
    reference_id: draft.referenceId,
    type: draft.type,
  };
}

function purchase(id: string, currency: string, amountMinor: number, atMs: number, description: string): TransactionDraft {
  return {
    id,
    currency,
    amount: -amountMinor,
    date: hasuraTimestamp(atMs),
    type: 'PURCHASE',
    is_debit: true,
    description,
  };
}

/** Hasura renders timestamptz with an explicit offset, not `Z`. */
function hasuraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function cumulativeWeights(merchants: readonly Merchant[]): number[] {
  let total = 0;
  return merchants.map((merchant) => (total += merchant.weight));
}

function pickWeighted<T>(random: () => number, items: readonly T[], cumulative: number[]): T {
  const target = random() * cumulative[cumulative.length - 1];
  const index = cumulative.findIndex((edge) => target < edge);
  return index < 0 ? pick(random, items) : items[index];
}
