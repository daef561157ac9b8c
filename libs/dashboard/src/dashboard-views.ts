import { checkTimeZone, quoteIdentifier, type SqlDialect } from '@org/sql-dialect';
import { ViewSchemaError } from './dashboard-errors';

/**
 * The dashboard's views: one SQL source for both warehouses. What differs between them (the day of a timestamp
 * in the reporting time zone, the double type) is spelled by the `SqlDialect` they are rendered through; the
 * bodies use only what DuckDB and Redshift share. Months and days are those of the reporting time zone (default
 * UTC), never of the machine or session that reads them.
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

/** What a view's SQL is rendered with. */
export interface ViewSql {
  dialect: SqlDialect;
  /** A table's or view's name as the warehouse's SQL names it (schema-qualified in Redshift). */
  table: (name: string) => string;
  /** The reporting time zone (an IANA name): the months and days the views group by are its. */
  timeZone: string;
}

export interface DashboardView {
  name: string;
  description: string;
  body: (sql: ViewSql) => string;
}

/** `YYYY-MM` of a reward's creation in the reporting time zone. */
const rewardMonth = ({ dialect, timeZone }: ViewSql) => dialect.zonedMonth('created_at', timeZone);

export const DASHBOARD_VIEWS: readonly DashboardView[] = [
  {
    name: 'v_monthly_plu',
    description:
      'PLU earned per month of the reporting time zone (rejected rewards excluded): PLU is one token whatever the currency of the spend',
    body: (v) => `SELECT ${rewardMonth(v)} AS reward_month,
  SUM(plu_amount) AS plu_earned,
  COUNT(*) AS rewards
FROM ${v.table('reward_facts')}
WHERE NOT is_rejected
GROUP BY ${rewardMonth(v)}`,
  },
  {
    name: 'v_monthly_plu_price',
    description:
      'Mean, min and max plu_price (fiat per PLU at award) per month of the reporting time zone and currency: a price is in one currency',
    body: (v) => pricesBy(rewardMonth(v), 'reward_month', v.table),
  },
  {
    name: 'v_monthly_reward_value',
    description:
      'Fiat value of rewards per month of the reporting time zone and currency, and the effective reward rate on the spend they came from',
    body: (v) => `SELECT ${rewardMonth(v)} AS reward_month, currency,
  SUM(reward_amount) AS reward_value,
  SUM(CASE WHEN has_transaction THEN transaction_amount END) AS rewarded_spend,
  ${ratio(v.dialect, 'SUM(CASE WHEN has_transaction THEN reward_amount END)', 'SUM(CASE WHEN has_transaction THEN transaction_amount END)')} AS effective_reward_rate
FROM ${v.table('reward_facts')}
WHERE NOT is_rejected
GROUP BY ${rewardMonth(v)}, currency`,
  },
  {
    name: 'v_spend_by_merchant',
    description: 'Card spend (purchases) and rewards by merchant and currency',
    body: ({ table: t }) => `SELECT tx.description AS merchant, tx.merchant_category, tx.currency,
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
    body: ({ table: t }) => `SELECT merchant_category, currency,
  SUM(purchases) AS purchases, SUM(spend) AS spend, SUM(plu_earned) AS plu_earned, SUM(reward_value) AS reward_value
FROM ${t('v_spend_by_merchant')}
GROUP BY merchant_category, currency`,
  },
  {
    name: 'v_plu_status',
    description: 'PLU pending (not yet released), available and rejected',
    body: ({ table: t }) => `SELECT CASE WHEN is_rejected THEN 'rejected' WHEN is_available THEN 'available' ELSE 'pending' END AS status,
  COUNT(*) AS rewards,
  SUM(plu_amount) AS plu_amount
FROM ${t('reward_facts')}
GROUP BY CASE WHEN is_rejected THEN 'rejected' WHEN is_available THEN 'available' ELSE 'pending' END`,
  },
  {
    name: 'v_rewards_without_transaction',
    description: 'Rewards whose card transaction was not found (referrals, or transactions outside the pulled window)',
    body: ({ table: t }) => `SELECT reward_id, created_at, reward_type, reference_type, reference_id, plu_amount, reward_amount, currency
FROM ${t('reward_facts')}
WHERE NOT has_transaction`,
  },
  {
    name: 'v_daily_plu_price_by_currency',
    description: 'Mean, min and max plu_price per day of award in the reporting time zone, and currency',
    body: (v) => pricesBy(v.dialect.zonedDay('created_at', v.timeZone), 'day', v.table),
  },
];

/**
 * The views a Looker Studio report reads, one data source each with no custom SQL: one per chart of the local
 * dashboard (and its data health), flat, a currency column beside every fiat amount, months and days as DATEs of
 * the reporting time zone (Looker Studio reads a DATE as a date dimension; a `YYYY-MM` text is only a text). Each
 * reads the dashboard's view of the same chart, so both show the same numbers. PLU columns count tokens.
 */
export const REPORTING_VIEWS: readonly DashboardView[] = [
  {
    name: 'report_monthly_plu',
    description: 'PLU earned per month (first day of the month, reporting time zone), rejected rewards excluded',
    body: ({ table: t }) => `SELECT CAST(reward_month || '-01' AS DATE) AS month, plu_earned, rewards FROM ${t('v_monthly_plu')}`,
  },
  {
    name: 'report_monthly_plu_price',
    description: 'Mean, min and max PLU price per month and currency',
    body: ({ table: t }) =>
      `SELECT CAST(reward_month || '-01' AS DATE) AS month, currency, mean_plu_price, min_plu_price, max_plu_price, rewards FROM ${t('v_monthly_plu_price')}`,
  },
  {
    name: 'report_monthly_reward_value',
    description: 'Fiat value of the rewards, the spend they came from and the effective reward rate, per month and currency',
    body: ({ table: t }) =>
      `SELECT CAST(reward_month || '-01' AS DATE) AS month, currency, reward_value, rewarded_spend, effective_reward_rate FROM ${t('v_monthly_reward_value')}`,
  },
  {
    name: 'report_spend_by_merchant',
    description: 'Card spend (purchases) and rewards by merchant and currency',
    body: ({ table: t }) =>
      `SELECT merchant, merchant_category AS category, currency, purchases, spend, plu_earned, reward_value FROM ${t('v_spend_by_merchant')}`,
  },
  {
    name: 'report_spend_by_category',
    description: 'Card spend (purchases) and rewards by spending category and currency',
    body: ({ table: t }) =>
      `SELECT merchant_category AS category, currency, purchases, spend, plu_earned, reward_value FROM ${t('v_spend_by_category')}`,
  },
  {
    name: 'report_plu_status',
    description: 'PLU pending, available and rejected',
    body: ({ table: t }) => `SELECT status, rewards, plu_amount FROM ${t('v_plu_status')}`,
  },
  {
    name: 'report_daily_plu_price',
    description: 'Mean, min and max PLU price per day of award (reporting time zone) and currency',
    body: ({ table: t }) =>
      `SELECT CAST(day AS DATE) AS day, currency, mean_plu_price, min_plu_price, max_plu_price, rewards FROM ${t('v_daily_plu_price_by_currency')}`,
  },
  {
    name: 'report_rewards_without_transaction',
    description: 'Rewards whose card transaction was not found, with the day they were created (reporting time zone)',
    body: ({ dialect, table: t, timeZone }) =>
      `SELECT ${dialect.zonedDate('created_at', timeZone)} AS created_date, reward_id, reward_type, reference_type, reference_id, plu_amount, reward_amount, currency FROM ${t('v_rewards_without_transaction')}`,
  },
  {
    name: 'report_load_history',
    description: "Data health: every load the warehouse committed, with its rows and the tables' counts after it",
    body: ({ table: t }) =>
      `SELECT seq AS load_number, run_id, CAST(loaded_at AS TIMESTAMP) AS loaded_at, transactions_loaded, rewards_loaded, transactions_in_table, rewards_in_table, reward_facts_in_table FROM ${t('load_ledger')}`,
  },
  {
    name: 'report_data_health',
    description: 'Data health as of the last load: newest rows, last successful run, what the last reconciliation and verification found',
    body: ({ table: t }) => `SELECT CAST(recorded_at AS TIMESTAMPTZ) AS recorded_at,
  CAST(newest_transaction_at AS TIMESTAMPTZ) AS newest_transaction_at,
  CAST(newest_reward_change_at AS TIMESTAMPTZ) AS newest_reward_change_at,
  last_success_run_id, last_success_mode, CAST(last_success_at AS TIMESTAMPTZ) AS last_success_at,
  CAST(last_reconciliation_at AS TIMESTAMPTZ) AS last_reconciliation_at, runs_replayed, facts_rederived,
  source_months_differing, months_pulled_again, months_left_to_verify,
  CAST(last_verification_at AS TIMESTAMPTZ) AS last_verification_at, verification_agreed, verification_checks_failed
FROM ${t('health_summary')}`,
  },
  {
    name: 'report_recent_runs',
    description: 'Data health: the runs of the last 30 days as of the last load, failed ones included, with their rows',
    body: ({ dialect, table: t, timeZone }) =>
      `SELECT ${dialect.zonedDate('CAST(started_at AS TIMESTAMPTZ)', timeZone)} AS started_date, CAST(started_at AS TIMESTAMPTZ) AS started_at, run_id, mode, status, transactions, rewards, error FROM ${t('health_runs')}`,
  },
  {
    name: 'report_quarantined_rows',
    description: 'Data health: rows quarantined by the transform, by dataset and reason, over every run',
    body: ({ table: t }) => `SELECT dataset, reason, quarantined_rows FROM ${t('health_quarantine')}`,
  },
  {
    name: 'report_freshness',
    description: 'Data health: the newest transaction and reward held, and the last load',
    body: ({ table: t }) => `SELECT
  (SELECT MAX(transaction_date) FROM ${t('transactions')}) AS newest_transaction_at,
  (SELECT MAX(created_at) FROM ${t('rewards')}) AS newest_reward_at,
  (SELECT MAX(CAST(loaded_at AS TIMESTAMP)) FROM ${t('load_ledger')}) AS last_load_at,
  (SELECT COUNT(*) FROM ${t('transactions')}) AS transactions,
  (SELECT COUNT(*) FROM ${t('rewards')}) AS rewards`,
  },
];

/**
 * Views of earlier versions, dropped by every load: they averaged prices of two currencies together. A view's
 * columns cannot change under CREATE OR REPLACE in Redshift (nor in PostgreSQL, but at the end), so a view whose
 * shape changes gets a new name and the old one goes.
 */
export const RETIRED_VIEWS: readonly string[] = ['v_monthly_plu_earned', 'v_daily_plu_price'];

export interface ViewOptions {
  /** The schema of the tables and views (Redshift); none for DuckDB's main schema. */
  schema?: string;
  /** The reporting time zone, an IANA name. Default UTC. */
  timeZone?: string;
  /** Where a table the views read lives, when not beside them (DuckDB keeps the load ledger in a schema of its own). */
  tableOf?: Partial<Record<string, string>>;
  /** Which views: all (default), the dashboard's (with the retired ones dropped), or Looker Studio's (which read the dashboard's). */
  views?: 'all' | 'dashboard' | 'reporting';
}

/** Every view the loads make: the dashboard's, then Looker Studio's (which read the dashboard's). */
export const ALL_VIEWS: readonly DashboardView[] = [...DASHBOARD_VIEWS, ...REPORTING_VIEWS];

/** DROP VIEW IF EXISTS of the retired views, then CREATE OR REPLACE VIEW of each view in dependency order. */
export function viewStatements(dialect: SqlDialect, options: ViewOptions = {}): string[] {
  const { schema } = options;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema))
    throw new ViewSchemaError(`Not a plain schema name: ${JSON.stringify(schema)}: letters, digits and _, not starting with a digit.`);
  const timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  const table = (name: string) =>
    options.tableOf?.[name] ?? (schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name));
  const which = options.views ?? 'all';
  const views = which === 'dashboard' ? DASHBOARD_VIEWS : which === 'reporting' ? REPORTING_VIEWS : ALL_VIEWS;
  return [
    ...(which === 'reporting' ? [] : RETIRED_VIEWS.map((name) => `DROP VIEW IF EXISTS ${table(name)}`)),
    ...views.map((view) => `CREATE OR REPLACE VIEW ${table(view.name)} AS\n${view.body({ dialect, table, timeZone })}`),
  ];
}
