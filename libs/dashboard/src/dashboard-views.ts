import { quoteIdentifier, type SqlDialect } from '@org/sql-dialect';
import { ViewSchemaError } from './dashboard-errors';

/**
 * The dashboard's views: one SQL source for both warehouses. What differs between them (the UTC day of a
 * timestamp, the double type) is spelled by the `SqlDialect` they are rendered through; the bodies use only what
 * DuckDB and Redshift share.
 */
const ratio = (dialect: SqlDialect, a: string, b: string) =>
  `CAST(${a} AS ${dialect.doubleType}) / NULLIF(CAST(${b} AS ${dialect.doubleType}), 0)`;

/** Mean, min and max `plu_price` of the rewards that have one (rejected excluded), per period and currency. */
const pricesBy = (period: string, name: string, t: (name: string) => string) => `SELECT ${period} AS ${name}, currency,
  AVG(plu_price) AS mean_plu_price,
  MIN(plu_price) AS min_plu_price,
  MAX(plu_price) AS max_plu_price,
  COUNT(*) AS rewards
FROM ${t('reward_facts')}
WHERE plu_price IS NOT NULL AND NOT is_rejected
GROUP BY ${period}, currency`;

export interface DashboardView {
  name: string;
  description: string;
  body: (dialect: SqlDialect, table: (name: string) => string) => string;
}

export const DASHBOARD_VIEWS: readonly DashboardView[] = [
  {
    name: 'v_monthly_plu',
    description: 'PLU earned per month (rejected rewards excluded): PLU is one token whatever the currency of the spend',
    body: (_, t) => `SELECT reward_month,
  SUM(plu_amount) AS plu_earned,
  COUNT(*) AS rewards
FROM ${t('reward_facts')}
WHERE NOT is_rejected
GROUP BY reward_month`,
  },
  {
    name: 'v_monthly_plu_price',
    description: 'Mean, min and max plu_price (fiat per PLU at award) per month and currency: a price is in one currency',
    body: (_, t) => pricesBy('reward_month', 'reward_month', t),
  },
  {
    name: 'v_monthly_reward_value',
    description: 'Fiat value of rewards per month and currency, and the effective reward rate on the spend they came from',
    body: (d, t) => `SELECT reward_month, currency,
  SUM(reward_amount) AS reward_value,
  SUM(CASE WHEN has_transaction THEN transaction_amount END) AS rewarded_spend,
  ${ratio(d, 'SUM(CASE WHEN has_transaction THEN reward_amount END)', 'SUM(CASE WHEN has_transaction THEN transaction_amount END)')} AS effective_reward_rate
FROM ${t('reward_facts')}
WHERE NOT is_rejected
GROUP BY reward_month, currency`,
  },
  {
    name: 'v_spend_by_merchant',
    description: 'Card spend (purchases) and rewards by merchant and currency',
    body: (_, t) => `SELECT tx.description AS merchant, tx.merchant_category, tx.currency,
  COUNT(*) AS purchases,
  SUM(tx.transaction_amount) AS spend,
  SUM(COALESCE(rf.plu_earned, 0)) AS plu_earned,
  SUM(COALESCE(rf.reward_value, 0)) AS reward_value
FROM ${t('transactions')} AS tx
LEFT JOIN (
  SELECT reference_id, SUM(plu_amount) AS plu_earned, SUM(reward_amount) AS reward_value
  FROM ${t('reward_facts')}
  WHERE NOT is_rejected AND has_transaction
  GROUP BY reference_id
) AS rf ON rf.reference_id = tx.transaction_id
WHERE tx.transaction_type = 'PURCHASE'
GROUP BY tx.description, tx.merchant_category, tx.currency`,
  },
  {
    name: 'v_spend_by_category',
    description: 'Card spend (purchases) and rewards by spending category and currency',
    body: (_, t) => `SELECT merchant_category, currency,
  SUM(purchases) AS purchases, SUM(spend) AS spend, SUM(plu_earned) AS plu_earned, SUM(reward_value) AS reward_value
FROM ${t('v_spend_by_merchant')}
GROUP BY merchant_category, currency`,
  },
  {
    name: 'v_plu_status',
    description: 'PLU pending (not yet released), available and rejected',
    body: (_, t) => `SELECT CASE WHEN is_rejected THEN 'rejected' WHEN is_available THEN 'available' ELSE 'pending' END AS status,
  COUNT(*) AS rewards,
  SUM(plu_amount) AS plu_amount
FROM ${t('reward_facts')}
GROUP BY CASE WHEN is_rejected THEN 'rejected' WHEN is_available THEN 'available' ELSE 'pending' END`,
  },
  {
    name: 'v_rewards_without_transaction',
    description: 'Rewards whose card transaction was not found (referrals, or transactions outside the pulled window)',
    body: (_, t) => `SELECT reward_id, created_at, reward_type, reference_type, reference_id, plu_amount, reward_amount, currency
FROM ${t('reward_facts')}
WHERE NOT has_transaction`,
  },
  {
    name: 'v_daily_plu_price_by_currency',
    description: 'Mean, min and max plu_price per UTC day of award and currency',
    body: (d, t) => pricesBy(d.utcDay('created_at'), 'day', t),
  },
];

/**
 * Views of earlier versions, dropped by every load: they averaged prices of two currencies together. A view's
 * columns cannot change under CREATE OR REPLACE in Redshift (nor in PostgreSQL, but at the end), so a view whose
 * shape changes gets a new name and the old one goes.
 */
export const RETIRED_VIEWS: readonly string[] = ['v_monthly_plu_earned', 'v_daily_plu_price'];

/** DROP VIEW IF EXISTS of the retired views, then CREATE OR REPLACE VIEW of each view in dependency order. */
export function viewStatements(dialect: SqlDialect, schema?: string): string[] {
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema))
    throw new ViewSchemaError(`Not a plain schema name: ${JSON.stringify(schema)}: letters, digits and _, not starting with a digit.`);
  const table = (name: string) => (schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name));
  return [
    ...RETIRED_VIEWS.map((name) => `DROP VIEW IF EXISTS ${table(name)}`),
    ...DASHBOARD_VIEWS.map((view) => `CREATE OR REPLACE VIEW ${table(view.name)} AS\n${view.body(dialect, table)}`),
  ];
}
