/** Numbers and labels the dashboard shows, read from the views (the query function is the caller's). */
export interface DashboardData {
  monthlyPlu: { reward_month: string; plu_earned: number; rewards: number }[];
  /** A PLU's price is in the currency of its reward: one series per currency, never averaged across. */
  monthlyPrice: { reward_month: string; currency: string; mean_plu_price: number; min_plu_price: number; max_plu_price: number }[];
  monthlyValue: { reward_month: string; currency: string; reward_value: number; effective_reward_rate: number | null }[];
  merchants: {
    merchant: string;
    merchant_category: string;
    currency: string;
    purchases: number;
    spend: number;
    plu_earned: number;
    reward_value: number;
  }[];
  categories: { merchant_category: string; currency: string; purchases: number; spend: number; plu_earned: number; reward_value: number }[];
  pluStatus: { status: string; rewards: number; plu_amount: number }[];
  withoutTransaction: {
    count: number;
    plu: number;
    /** The latest few (`LATEST_WITHOUT_TRANSACTION`), newest first; `count` says how many there are. */
    latest: {
      reward_id: string;
      created_at: string;
      reward_type: string | null;
      reference_type: string | null;
      reference_id: string | null;
      plu_amount: number;
    }[];
  };
  dailyPrice: { day: string; currency: string; mean_plu_price: number; min_plu_price: number; max_plu_price: number }[];
}

/** How many rewards without a transaction the page lists (the newest). */
export const LATEST_WITHOUT_TRANSACTION = 10;

export type QueryRows = (sql: string) => Promise<Record<string, unknown>[]>;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const str = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/** The columns v_spend_by_merchant and v_spend_by_category share. */
function spendFields(r: Record<string, unknown>) {
  return {
    merchant_category: str(r['merchant_category']),
    currency: str(r['currency']),
    purchases: num(r['purchases']),
    spend: num(r['spend']),
    plu_earned: num(r['plu_earned']),
    reward_value: num(r['reward_value']),
  };
}

/** Reads every view the dashboard draws. `schema` qualifies the view names (Redshift); none for DuckDB. */
export async function loadDashboardData(
  query: QueryRows,
  options: { schema?: string; topMerchants?: number } = {},
): Promise<DashboardData> {
  const v = (name: string) => (options.schema ? `"${options.schema}"."${name}"` : `"${name}"`);
  const top = Math.max(1, Math.floor(options.topMerchants ?? 10));
  const price = (r: Record<string, unknown>) => ({
    currency: str(r['currency']),
    mean_plu_price: num(r['mean_plu_price']),
    min_plu_price: num(r['min_plu_price']),
    max_plu_price: num(r['max_plu_price']),
  });
  const [monthlyPlu, monthlyPrice, monthlyValue, merchants, categories, pluStatus, withoutCount, withoutLatest, dailyPrice] =
    await Promise.all([
      query(`SELECT * FROM ${v('v_monthly_plu')} ORDER BY reward_month`),
      query(`SELECT * FROM ${v('v_monthly_plu_price')} ORDER BY reward_month, currency`),
      query(`SELECT * FROM ${v('v_monthly_reward_value')} ORDER BY reward_month, currency`),
      // The top merchants of each currency: spends in two currencies are never ranked against each other.
      query(
        `SELECT * FROM (SELECT m.*, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY spend DESC, merchant) AS spend_rank FROM ${v('v_spend_by_merchant')} AS m) AS ranked ` +
          `WHERE spend_rank <= ${top} ORDER BY currency, spend DESC, merchant`,
      ),
      query(`SELECT * FROM ${v('v_spend_by_category')} ORDER BY currency, spend DESC, merchant_category`),
      query(`SELECT * FROM ${v('v_plu_status')} ORDER BY status`),
      query(`SELECT COUNT(*) AS n, SUM(plu_amount) AS plu FROM ${v('v_rewards_without_transaction')}`),
      query(`SELECT * FROM ${v('v_rewards_without_transaction')} ORDER BY created_at DESC, reward_id LIMIT ${LATEST_WITHOUT_TRANSACTION}`),
      query(`SELECT * FROM ${v('v_daily_plu_price_by_currency')} ORDER BY day, currency`),
    ]);
  return {
    monthlyPlu: monthlyPlu.map((r) => ({
      reward_month: str(r['reward_month']),
      plu_earned: num(r['plu_earned']),
      rewards: num(r['rewards']),
    })),
    monthlyPrice: monthlyPrice.map((r) => ({ reward_month: str(r['reward_month']), ...price(r) })),
    monthlyValue: monthlyValue.map((r) => ({
      reward_month: str(r['reward_month']),
      currency: str(r['currency']),
      reward_value: num(r['reward_value']),
      effective_reward_rate: numOrNull(r['effective_reward_rate']),
    })),
    merchants: merchants.map((r) => ({ merchant: str(r['merchant']), ...spendFields(r) })),
    categories: categories.map((r) => spendFields(r)),
    pluStatus: pluStatus.map((r) => ({ status: str(r['status']), rewards: num(r['rewards']), plu_amount: num(r['plu_amount']) })),
    withoutTransaction: {
      count: num(withoutCount[0]?.['n']),
      plu: num(withoutCount[0]?.['plu']),
      latest: withoutLatest.map((r) => ({
        reward_id: str(r['reward_id']),
        created_at: str(r['created_at']),
        reward_type: r['reward_type'] === null ? null : str(r['reward_type']),
        reference_type: r['reference_type'] === null ? null : str(r['reference_type']),
        reference_id: r['reference_id'] === null || r['reference_id'] === undefined ? null : str(r['reference_id']),
        plu_amount: num(r['plu_amount']),
      })),
    },
    dailyPrice: dailyPrice.map((r) => ({ day: str(r['day']), ...price(r) })),
  };
}
