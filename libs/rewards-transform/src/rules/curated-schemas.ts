import type { ColumnSpec } from '../engine/table';

/** Raw CSV columns, named as the Plutus API names its fields. Extract writes these; transform reads them. */
export const RAW_TRANSACTION_COLUMNS = ['id', 'model', 'user_id', 'currency', 'amount', 'date', 'type', 'is_debit', 'description'] as const;
export const RAW_REWARD_COLUMNS = [
  'id',
  'amount',
  'available',
  'reason',
  'createdAt',
  'updatedAt',
  'rebate_rate',
  'fiat_amount_rewarded',
  'currency',
  'reference_type',
  'reference_id',
  'type',
] as const;

/** Without these a raw file cannot be transformed at all. */
export const REQUIRED_TRANSACTION_COLUMNS = ['id', 'amount', 'date', 'currency'] as const;
export const REQUIRED_REWARD_COLUMNS = ['id', 'amount', 'createdAt'] as const;

export const MONEY_SCALE = 6;
export const PLU_SCALE = 8;
export const RATE_SCALE = 8;

const s = (name: string, nullable: boolean, description: string): ColumnSpec => ({ name, kind: 'string', nullable, description });
const ts = (name: string, nullable: boolean, description: string): ColumnSpec => ({ name, kind: 'timestamp', nullable, description });
const b = (name: string, nullable: boolean, description: string): ColumnSpec => ({ name, kind: 'boolean', nullable, description });
const dbl = (name: string, description: string): ColumnSpec => ({ name, kind: 'double', nullable: true, description });
const dec = (name: string, nullable: boolean, precision: number, scale: number, description: string): ColumnSpec => ({
  name,
  kind: 'decimal',
  nullable,
  precision,
  scale,
  description,
});

export const TRANSACTIONS_SCHEMA: readonly ColumnSpec[] = [
  s('transaction_id', false, 'Plutus transaction id; rewards refer to it as reference_id'),
  s('model', true, 'Source model of the row'),
  s('user_id', true, 'Owner of the card'),
  s('currency', false, 'ISO 4217 code of amount'),
  { name: 'amount_minor', kind: 'integer', nullable: false, description: 'Signed amount in minor units, as the card ledger has it' },
  dec('transaction_amount', false, 18, 2, 'abs(amount) / 100: spend (or refund) in currency'),
  ts('transaction_date', false, 'When the transaction happened (UTC)'),
  s('transaction_type', true, 'PURCHASE, REFUND, TOP_UP, ...'),
  b('is_debit', true, 'Money left the card'),
  s('description', true, 'Merchant text as printed on the statement'),
  s('merchant_category', false, 'Spending category derived from the merchant text'),
];

export const REWARDS_SCHEMA: readonly ColumnSpec[] = [
  s('reward_id', false, 'Plutus reward id'),
  dec('plu_amount', false, 20, PLU_SCALE, 'PLU awarded'),
  b('is_available', false, 'PLU released (vested)'),
  s('reason', true, 'Why the reward changed state, e.g. Rejected by admin'),
  ts('created_at', false, 'When the reward was created (UTC)'),
  ts('updated_at', false, 'Last state change (UTC); created_at when the API gave none'),
  dec('rebate_rate', true, 12, RATE_SCALE, 'Cashback rate as a fraction; 0 for fixed-amount perks'),
  dec('fiat_amount_rewarded', true, 18, MONEY_SCALE, 'Fiat value of the reward at award time'),
  s('currency', true, 'Currency of fiat_amount_rewarded'),
  s('reference_type', true, 'What the reward refers to'),
  s('reference_id', true, 'transaction_id of the card transaction, when it refers to one'),
  s('reward_type', true, 'REBATE, PERK, REFERRAL, ...'),
];

export const REWARD_FACTS_SCHEMA: readonly ColumnSpec[] = [
  ...REWARDS_SCHEMA,
  b('has_transaction', false, 'The referenced transaction was found'),
  s('merchant', true, 'description of the transaction'),
  s('merchant_category', true, 'Category of the transaction'),
  ts('transaction_date', true, 'Date of the transaction'),
  s('transaction_currency', true, 'Currency of transaction_amount'),
  dec('transaction_amount', true, 18, 2, 'abs(amount) / 100 of the transaction'),
  dec('reward_amount', true, 18, MONEY_SCALE, 'Fiat value of the reward: fiat_amount_rewarded, else transaction_amount * rebate_rate'),
  dbl('plu_price', 'Fiat per PLU at award time; null when it cannot be computed (see plu_price_note)'),
  s('plu_price_note', true, 'Why plu_price is null'),
  dbl('effective_reward_rate', 'reward_amount / transaction_amount'),
  b('is_rejected', false, 'The reward was rejected (reason says so)'),
  s('reward_month', false, 'YYYY-MM of created_at (UTC)'),
];

export const CURATED_SCHEMAS = {
  transactions: TRANSACTIONS_SCHEMA,
  rewards: REWARDS_SCHEMA,
  reward_facts: REWARD_FACTS_SCHEMA,
} as const;

/** The warehouse's tables. */
export type CuratedDataset = keyof typeof CURATED_SCHEMAS;

/**
 * What the lake holds as curated Parquet (and the catalog lists): the two cleaned datasets. reward_facts is
 * derived in the warehouse, where the current state of both lives, so no lake file can claim a join the
 * warehouse contradicts.
 */
export const LAKE_DATASETS = ['transactions', 'rewards'] as const;
export type LakeDataset = (typeof LAKE_DATASETS)[number];

/** Key of each curated dataset: one row per key in the warehouse. */
export const DATASET_KEYS: Record<CuratedDataset, string> = {
  transactions: 'transaction_id',
  rewards: 'reward_id',
  reward_facts: 'reward_id',
};

/**
 * The column that orders the versions of a key, where the dataset has one: the latest wins. Transactions have
 * none (a re-pulled transaction replaces the earlier copy).
 */
export const DATASET_VERSIONS: Partial<Record<CuratedDataset, string>> = {
  rewards: 'updated_at',
  reward_facts: 'updated_at',
};
