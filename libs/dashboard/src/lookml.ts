import { checkTimeZone, quoteIdentifier } from '@org/sql-dialect';
import { CURATED_SCHEMAS, DATASET_KEYS, type CuratedDataset } from '@org/rewards-transform';
import { LookmlOptionError } from './dashboard-errors';

export interface LookmlOptions {
  /** The Looker connection to the warehouse. Default `rewards_warehouse`. */
  connection?: string;
  /** The schema of the tables and views (`rewards` in Redshift); none for a DuckDB file. */
  schema?: string;
  /**
   * The reporting time zone (an IANA name; default UTC): every dashboard tile runs in it (`query_timezone`), so its
   * months and days are the views' and the local dashboard's. Looker converts the stored UTC instants to it.
   */
  timeZone?: string;
}

/** One column of a LookML view: what the generator declares, and what the tests run against the warehouse. */
interface LookmlColumn {
  name: string;
  kind: 'string' | 'number' | 'yesno' | 'time';
  description?: string;
}

/** Amount columns, and the column naming their currency: every measure over one requires that column. */
export const MONEY_COLUMNS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  transactions: { transaction_amount: 'currency' },
  rewards: { fiat_amount_rewarded: 'currency' },
  reward_facts: { fiat_amount_rewarded: 'currency', transaction_amount: 'transaction_currency', reward_amount: 'currency' },
  v_monthly_reward_value: { reward_value: 'currency', rewarded_spend: 'currency' },
};

/** PLU columns: one token whatever the currency of the spend, so they are summed freely. */
const PLU_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  rewards: ['plu_amount'],
  reward_facts: ['plu_amount'],
  v_plu_status: ['plu_amount'],
};

const KIND: Record<string, LookmlColumn['kind']> = {
  string: 'string',
  integer: 'number',
  decimal: 'number',
  double: 'number',
  boolean: 'yesno',
  timestamp: 'time',
};

/** The dashboard's views that Looker users explore: their columns, declared here and run against the warehouse by the tests. */
const VIEW_COLUMNS: Readonly<Record<string, readonly LookmlColumn[]>> = {
  v_monthly_reward_value: [
    { name: 'reward_month', kind: 'string', description: 'YYYY-MM of the reward, in the reporting time zone the load made the view in' },
    { name: 'currency', kind: 'string' },
    { name: 'reward_value', kind: 'number', description: 'Fiat value of the rewards, in currency' },
    { name: 'rewarded_spend', kind: 'number', description: 'Spend the rewards came from, in currency' },
    { name: 'effective_reward_rate', kind: 'number', description: 'Reward value over the spend it came from' },
  ],
  v_plu_status: [
    { name: 'status', kind: 'string', description: 'available, pending or rejected' },
    { name: 'rewards', kind: 'number' },
    { name: 'plu_amount', kind: 'number' },
  ],
};

/** Each LookML data test, and the SQL that must hold on the warehouse for it to pass (run by the tests on DuckDB). */
export const LOOKML_DATA_TESTS: readonly { name: string; lookml: string; holds: (table: (name: string) => string) => string }[] = [
  {
    name: 'plu_is_never_negative',
    lookml: `test: plu_is_never_negative {
  explore_source: reward_facts {
    column: total_plu { field: reward_facts.total_plu }
  }
  assert: total_plu_not_negative {
    expression: \${reward_facts.total_plu} >= 0 ;;
  }
}`,
    holds: (t) => `SELECT COALESCE(SUM(plu_amount), 0) >= 0 AS ok FROM ${t('reward_facts')}`,
  },
  {
    name: 'one_row_per_reward',
    lookml: `test: one_row_per_reward {
  explore_source: reward_facts {
    column: reward_id { field: reward_facts.reward_id }
    column: count { field: reward_facts.count }
    sorts: [reward_facts.count: desc]
    limit: 1
  }
  assert: each_reward_once {
    expression: \${reward_facts.count} = 1 ;;
  }
}`,
    holds: (t) => `SELECT COALESCE(MAX(n), 1) = 1 AS ok FROM (SELECT COUNT(*) AS n FROM ${t('reward_facts')} GROUP BY reward_id) AS counts`,
  },
];

const titleOf = (name: string) => name.replace(/^v_/, '').replace(/_/g, ' ');
const groupName = (column: string) => column.replace(/_(date|at)$/, '');
const plainName = /^[a-z_][a-z0-9_]*$/;

/**
 * A LookML project over the warehouse, generated from the same definitions as its tables and dashboard views:
 * file path → text. A view per table (and per explored dashboard view) with typed dimensions, the key as
 * `primary_key`, times as `dimension_group`s, a count, PLU sums, and money sums that require their currency field
 * (no tile can add two currencies); a model with the explores (reward_facts joined to its transaction, many to
 * one) and data tests; a LookML dashboard with the local dashboard's tiles, money pivoted by currency.
 */
export function lookmlProject(options: LookmlOptions = {}): Record<string, string> {
  const connection = options.connection ?? 'rewards_warehouse';
  if (!/^[A-Za-z0-9_-]+$/.test(connection)) throw new LookmlOptionError(`Not a Looker connection name: ${JSON.stringify(connection)}.`);
  if (options.schema !== undefined && !plainName.test(options.schema))
    throw new LookmlOptionError(`Not a plain schema name: ${JSON.stringify(options.schema)}.`);
  let timeZone: string;
  try {
    timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  } catch (error) {
    throw new LookmlOptionError((error as Error).message);
  }
  const table = (name: string) => (options.schema ? `${quoteIdentifier(options.schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name));
  const files: Record<string, string> = {};
  for (const dataset of Object.keys(CURATED_SCHEMAS) as CuratedDataset[]) {
    const columns = CURATED_SCHEMAS[dataset].map((spec) => ({
      name: spec.name,
      kind: KIND[spec.kind] ?? 'string',
      description: spec.description,
    }));
    files[`views/${dataset}.view.lkml`] = viewLookml(dataset, table(dataset), columns, DATASET_KEYS[dataset as keyof typeof DATASET_KEYS]);
  }
  for (const [view, columns] of Object.entries(VIEW_COLUMNS)) files[`views/${view}.view.lkml`] = viewLookml(view, table(view), columns);
  files['rewards.model.lkml'] = modelLookml(connection);
  files['dashboards/card_rewards.dashboard.lookml'] = dashboardLookml(timeZone);
  return files;
}

function viewLookml(view: string, sqlTable: string, columns: readonly LookmlColumn[], key?: string): string {
  const quote = (text: string) => JSON.stringify(text);
  const fields = columns.map((column) => {
    const sql = `\${TABLE}.${quoteIdentifier(column.name)}`;
    const about = column.description ? `\n    description: ${quote(column.description)}` : '';
    if (column.kind === 'time')
      return `  dimension_group: ${groupName(column.name)} {
    type: time
    timeframes: [raw, time, date, week, month, year]
    datatype: timestamp
    sql: ${sql} ;;${about}
  }`;
    return `  dimension: ${column.name} {${column.name === key ? '\n    primary_key: yes' : ''}
    type: ${column.kind}
    sql: ${sql} ;;${about}
  }`;
  });
  const measures = [`  measure: count {\n    type: count\n  }`];
  for (const column of PLU_COLUMNS[view] ?? [])
    measures.push(`  measure: total_plu {
    type: sum
    sql: \${${column}} ;;
    value_format_name: decimal_4
    description: "PLU, one token whatever the currency of the spend"
  }`);
  for (const [column, currency] of Object.entries(MONEY_COLUMNS[view] ?? {}))
    measures.push(`  measure: total_${column} {
    type: sum
    sql: \${${column}} ;;
    value_format_name: decimal_2
    required_fields: [${currency}]
    description: "In ${currency}: always grouped by it, so two currencies are never added"
  }`);
  return `view: ${view} {
  sql_table_name: ${sqlTable} ;;
  label: ${quote(titleOf(view))}

${[...fields, ...measures].join('\n\n')}
}
`;
}

function modelLookml(connection: string): string {
  return `connection: "${connection}"

include: "/views/*.view.lkml"
include: "/dashboards/*.dashboard.lookml"

explore: reward_facts {
  label: "Rewards"
  description: "Each reward with its card transaction (rewards without one are kept: has_transaction = no)"
  join: transactions {
    type: left_outer
    relationship: many_to_one
    sql_on: \${reward_facts.reference_id} = \${transactions.transaction_id} ;;
  }
}

explore: transactions {
  label: "Card transactions"
}

explore: v_monthly_reward_value {
  label: "Reward value per month"
}

explore: v_plu_status {
  label: "PLU by status"
}

${LOOKML_DATA_TESTS.map((test) => test.lookml).join('\n\n')}
`;
}

/** The local dashboard's tiles; JSON is YAML, which LookML dashboards are written in. */
function dashboardLookml(timeZone: string): string {
  const tile = (name: string, title: string, type: string, explore: string, fields: string[], extra: object = {}) => ({
    name,
    title,
    model: 'rewards',
    explore,
    type,
    fields,
    ...extra,
    query_timezone: timeZone,
  });
  const dashboard = [
    {
      dashboard: 'card_rewards',
      title: 'Plutus card rewards',
      layout: 'newspaper',
      elements: [
        tile(
          'plu_per_month',
          'PLU earned per month',
          'looker_column',
          'reward_facts',
          // The month of created_at as Looker converts it to the tile's query_timezone (reward_month is the UTC month).
          ['reward_facts.created_month', 'reward_facts.total_plu'],
          {
            filters: { 'reward_facts.is_rejected': 'No' },
            sorts: ['reward_facts.created_month'],
          },
        ),
        tile(
          'reward_value_per_month',
          'Reward value per month',
          'looker_column',
          'v_monthly_reward_value',
          ['v_monthly_reward_value.reward_month', 'v_monthly_reward_value.currency', 'v_monthly_reward_value.total_reward_value'],
          { pivots: ['v_monthly_reward_value.currency'], sorts: ['v_monthly_reward_value.reward_month'] },
        ),
        tile(
          'spend_by_category',
          'Spend by category',
          'looker_bar',
          'transactions',
          ['transactions.merchant_category', 'transactions.currency', 'transactions.total_transaction_amount'],
          { pivots: ['transactions.currency'], filters: { 'transactions.transaction_type': 'PURCHASE' } },
        ),
        tile(
          'top_merchants',
          'Top merchants by spend',
          'looker_bar',
          'transactions',
          ['transactions.description', 'transactions.currency', 'transactions.total_transaction_amount'],
          { pivots: ['transactions.currency'], filters: { 'transactions.transaction_type': 'PURCHASE' }, limit: 10 },
        ),
        tile('plu_status', 'Pending vs available PLU', 'looker_bar', 'v_plu_status', ['v_plu_status.status', 'v_plu_status.total_plu']),
      ],
    },
  ];
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
