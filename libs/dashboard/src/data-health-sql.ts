import { quoteLiteral, type SqlDialect } from '@org/sql-dialect';
import type { DataHealthView } from './dashboard-html';

/**
 * The data health the local page shows (from the lake's manifests: failed runs, quarantined rows, the last
 * reconciliation and verification), kept in the warehouse too, so a BI tool that reads only the warehouse (Looker
 * Studio) shows it: each load replaces the three tables' rows with the health as of that load. Instants are kept as
 * the manifests' ISO text; the `report_*` views read them as timestamps.
 */
export const DATA_HEALTH_TABLES = ['health_summary', 'health_runs', 'health_quarantine'] as const;

/** Longest text kept of an error or a reason: within Redshift's VARCHAR(4096) bytes whatever the characters. */
const TEXT_CHARACTERS = 1000;
/** The newest runs kept (the page lists 30 days), and rows per INSERT: each statement stays far below the Data API's 100 KB. */
const MOST_RUNS = 200;
const ROWS_PER_INSERT = 50;

/** CREATE TABLE IF NOT EXISTS of the three tables. */
export function dataHealthTableStatements(dialect: SqlDialect, table: (name: string) => string): string[] {
  const text = dialect.columnType({ kind: 'string' });
  const integer = dialect.columnType({ kind: 'integer' });
  const boolean = dialect.columnType({ kind: 'boolean' });
  const columns: Record<(typeof DATA_HEALTH_TABLES)[number], string[]> = {
    health_summary: [
      `recorded_at ${text} NOT NULL`,
      `newest_transaction_at ${text}`,
      `newest_reward_change_at ${text}`,
      `last_success_run_id ${text}`,
      `last_success_mode ${text}`,
      `last_success_at ${text}`,
      `last_reconciliation_at ${text}`,
      `runs_replayed ${integer}`,
      `facts_rederived ${boolean}`,
      `source_months_differing ${integer}`,
      `months_pulled_again ${text}`,
      `months_left_to_verify ${text}`,
      `last_verification_at ${text}`,
      `verification_agreed ${boolean}`,
      `verification_checks_failed ${integer}`,
    ],
    health_runs: [
      `run_id ${text} NOT NULL`,
      `mode ${text}`,
      `status ${text}`,
      `started_at ${text}`,
      `transactions ${integer}`,
      `rewards ${integer}`,
      `error ${text}`,
    ],
    health_quarantine: [`dataset ${text} NOT NULL`, `reason ${text}`, `quarantined_rows ${integer}`],
  };
  return DATA_HEALTH_TABLES.map((name) => `CREATE TABLE IF NOT EXISTS ${table(name)} (${columns[name].join(', ')})`);
}

const literal = (value: string | number | boolean | null | undefined): string =>
  value === null || value === undefined
    ? 'NULL'
    : typeof value === 'number'
      ? String(Number.isFinite(value) ? Math.trunc(value) : 'NULL')
      : typeof value === 'boolean'
        ? value
          ? 'TRUE'
          : 'FALSE'
        : quoteLiteral(value.slice(0, TEXT_CHARACTERS));

const values = (rows: readonly (readonly (string | number | boolean | null | undefined)[])[]) =>
  rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ');

/** The three tables' rows replaced by `health` (run them in one transaction, after the table statements). */
export function dataHealthRowStatements(health: DataHealthView, recordedAt: Date, table: (name: string) => string): string[] {
  const reconciliation = health.lastReconciliation;
  const verification = health.lastVerification;
  const summary = [
    recordedAt.toISOString(),
    health.newest.transaction,
    health.newest.rewardUpdate,
    health.lastSuccessfulRun?.runId,
    health.lastSuccessfulRun?.mode,
    health.lastSuccessfulRun?.finishedAt,
    reconciliation?.at,
    reconciliation?.runsReplayed,
    reconciliation?.factsRederived,
    reconciliation?.sourceMonthsDiffering,
    reconciliation ? [...reconciliation.monthsRepulled, ...(reconciliation.rewardMonthsLanded ?? [])].join(', ') : null,
    reconciliation ? [...reconciliation.monthsLeftToVerify, ...(reconciliation.rewardMonthsLeftToVerify ?? [])].join(', ') : null,
    verification?.at,
    verification?.ok,
    verification?.checksFailed,
  ];
  const runs = health.recentRuns
    .slice(0, MOST_RUNS)
    .map((run) => [run.runId, run.mode, run.status, run.startedAt, run.transactions, run.rewards, run.error]);
  const quarantine = health.quarantined.map((row) => [row.dataset, row.reason, row.rows]);
  return [
    ...DATA_HEALTH_TABLES.map((name) => `DELETE FROM ${table(name)}`),
    `INSERT INTO ${table('health_summary')} VALUES ${values([summary])}`,
    ...inserts(table('health_runs'), runs),
    ...inserts(table('health_quarantine'), quarantine),
  ];
}

function inserts(target: string, rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string[] {
  const statements: string[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT)
    statements.push(`INSERT INTO ${target} VALUES ${values(rows.slice(start, start + ROWS_PER_INSERT))}`);
  return statements;
}
