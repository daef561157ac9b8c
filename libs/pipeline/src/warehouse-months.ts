import { quoteIdentifier, quoteLiteral, type SqlDialect } from '@org/sql-dialect';
import { LAKE_DATASETS, type LakeDataset } from '@org/rewards-transform';
import type { MonthFigures, Warehouse } from './ports';
import { qualifiedName, summaryWithout } from './warehouse-schema';

/**
 * The warehouse ledger's figures per month: for each lake dataset, rows per UTC month of its instant (a
 * transaction's date, a reward's last change) with the sum of those instants in whole epoch seconds. Each load
 * keeps them in its own transaction, from the rows it replaces and the rows it adds, so the checks of every run
 * (the lake against the source, the rewards against the ledger) read a few dozen rows where they scanned a whole
 * table. They are used only while their total equals the table's count, and a load whose figures disagree with
 * its table's count computes them again from the table: figures that were never kept (a warehouse of an earlier
 * version) or were damaged cost one scan, never a wrong answer. `verify --deep` compares them month by month with
 * the tables.
 */
export const LEDGER_MONTHS_TABLE = 'load_ledger_months';

/** The instant a dataset's rows are counted by. */
export const MONTH_INSTANT: Record<LakeDataset, string> = { transactions: 'transaction_date', rewards: 'updated_at' };

export function ledgerMonthsTableSql(dialect: SqlDialect, schema?: string): string {
  const text = dialect.columnType({ kind: 'string' });
  return (
    `CREATE TABLE IF NOT EXISTS ${qualifiedName(LEDGER_MONTHS_TABLE, schema)} (` +
    `"dataset" ${text} NOT NULL, "month" ${text} NOT NULL, "rows" BIGINT NOT NULL, "seconds" BIGINT NOT NULL, "generation" BIGINT NOT NULL)`
  );
}

/** An instant in whole epoch seconds, cut toward zero (MOD takes the dividend's sign in DuckDB and Redshift alike). */
export function wholeEpochSecondsSql(dialect: SqlDialect, instant: string): string {
  const micros = dialect.epochMicros(instant);
  return `((${micros} - MOD(${micros}, 1000000)) / 1000000)`;
}

const instantLiteral = (iso: string) => `CAST(${quoteLiteral(iso)} AS TIMESTAMPTZ)`;

/**
 * `SELECT "month", "rows", "seconds"` of a dataset's rows, computed from `relation` (its table by default), with
 * the instant in [from, before) when given, and only the rows of `onlyKeys` when given.
 */
export function monthFiguresScanSql(
  dialect: SqlDialect,
  dataset: LakeDataset,
  options: { relation: string; from?: string; before?: string; key?: string; onlyKeys?: readonly string[] },
): string {
  const instant = quoteIdentifier(MONTH_INSTANT[dataset]);
  const where = [
    ...(options.from ? [`${instant} >= ${instantLiteral(options.from)}`] : []),
    ...(options.before ? [`${instant} < ${instantLiteral(options.before)}`] : []),
    // An IN list is a hash lookup; its figures are taken away from the whole's by the caller.
    ...(options.onlyKeys
      ? [`${quoteIdentifier(options.key ?? '')} IN (${options.onlyKeys.length ? options.onlyKeys.map(quoteLiteral).join(', ') : 'NULL'})`]
      : []),
  ];
  return (
    `SELECT ${dialect.utcMonth(instant)} AS "month", COUNT(*) AS "rows", SUM(${wholeEpochSecondsSql(dialect, instant)}) AS "seconds" ` +
    `FROM ${options.relation}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY 1 ORDER BY 1`
  );
}

/** `SELECT "dataset", "month", "rows", "seconds"` of the kept figures. */
export function ledgerMonthsSelectSql(schema?: string): string {
  return `SELECT "dataset", "month", "rows", "seconds" FROM ${qualifiedName(LEDGER_MONTHS_TABLE, schema)} ORDER BY 1, 2`;
}

export interface LedgerMonthsUpdate {
  dialect: SqlDialect;
  schema?: string;
  /** The tables, as the load's statements name them. */
  tables: Record<LakeDataset, string>;
  /**
   * Per dataset, a relation of the table's rows the load is about to replace and one of the rows it is about to
   * add, each with the dataset's instant column (`MONTH_INSTANT`). Without them the figures only come back into
   * line with the tables (a load that filled empty tables, then runs this).
   */
  changes?: Record<LakeDataset, { removed: string; added: string }>;
}

/**
 * The statements that bring the kept figures up to date, for the load's own transaction, run before its rows
 * change: (1) the new figures inserted as a new generation: the kept ones (or, for a dataset whose kept total
 * differs from its table's count, the table's own figures) plus the rows added and minus the rows removed; (2) the
 * generations before it deleted. Two statements, as a Redshift load's batch has few to spare. Their cost follows
 * the months and the load's rows, except for a dataset recomputed. (Tables left empty insert no figures and keep
 * the old ones, which then disagree with the count, so they are not used.)
 */
export function ledgerMonthsUpdateSql(update: LedgerMonthsUpdate): string[] {
  const { dialect } = update;
  const months = qualifiedName(LEDGER_MONTHS_TABLE, update.schema);
  const branches = LAKE_DATASETS.flatMap((dataset) => {
    const name = quoteLiteral(dataset);
    const instant = quoteIdentifier(MONTH_INSTANT[dataset]);
    const month = dialect.utcMonth(instant);
    const seconds = wholeEpochSecondsSql(dialect, instant);
    const kept = `(SELECT COALESCE(SUM("rows"), 0) FROM ${months} WHERE "dataset" = ${name}) = (SELECT COUNT(*) FROM ${update.tables[dataset]})`;
    const change = update.changes?.[dataset];
    return [
      `SELECT "dataset", "month", "rows", "seconds" FROM ${months} WHERE "dataset" = ${name} AND ${kept}`,
      `SELECT ${name} AS "dataset", ${month} AS "month", COUNT(*) AS "rows", SUM(${seconds}) AS "seconds" FROM ${update.tables[dataset]} WHERE NOT ${kept} GROUP BY 2`,
      ...(change
        ? [
            `SELECT ${name}, ${month}, -COUNT(*), -SUM(${seconds}) FROM ${change.removed} AS removed GROUP BY 2`,
            `SELECT ${name}, ${month}, COUNT(*), SUM(${seconds}) FROM ${change.added} AS added GROUP BY 2`,
          ]
        : []),
    ];
  });
  return [
    `INSERT INTO ${months} ("dataset", "month", "rows", "seconds", "generation") ` +
      `SELECT "dataset", "month", SUM("rows"), SUM("seconds"), (SELECT COALESCE(MAX("generation"), 0) + 1 FROM ${months}) ` +
      `FROM (${branches.join(' UNION ALL ')}) AS figures GROUP BY 1, 2 HAVING SUM("rows") > 0`,
    `DELETE FROM ${months} WHERE "generation" < (SELECT MAX("generation") FROM ${months})`,
  ];
}

/** Figures by dataset from rows of `ledgerMonthsSelectSql` (numbers may come as text or bigint from a driver). */
export function ledgerMonthsOf(rows: readonly Record<string, unknown>[]): Record<LakeDataset, MonthFigures> {
  const out: Record<LakeDataset, MonthFigures> = { transactions: {}, rewards: {} };
  for (const row of rows) {
    const dataset = String(row['dataset']) as LakeDataset;
    if (out[dataset]) out[dataset][String(row['month'])] = { rows: Number(row['rows']), seconds: Number(row['seconds']) };
  }
  return out;
}

/** Figures from rows of `monthFiguresScanSql`. */
export function monthFiguresOf(rows: readonly Record<string, unknown>[]): MonthFigures {
  return Object.fromEntries(rows.map((row) => [String(row['month']), { rows: Number(row['rows']), seconds: Number(row['seconds']) }]));
}

/** What a warehouse reads to answer the month queries (`monthFigureQueries`). */
export interface MonthFigureReads {
  /** The kept figures, or null where the warehouse keeps none (no table yet). */
  kept(): Promise<Record<LakeDataset, MonthFigures> | null>;
  /** The table's row count. */
  count(dataset: LakeDataset): Promise<number>;
  /**
   * The figures computed from the table (`monthFiguresScanSql`), for rows whose instant is in [from, before) when
   * given, and only the rows of `onlyKeys` (by `key`) when given.
   */
  scan(
    dataset: LakeDataset,
    options: { from?: string; before?: string; key?: string; onlyKeys?: readonly string[] },
  ): Promise<MonthFigures>;
}

/**
 * A dataset's figures for the rows whose instant is before `before`: the kept figures of the whole months before
 * it, plus the table's own for the part of `before`'s month before it (nothing to read when `before` starts a
 * month). When the kept figures' total is not the table's count, the table is scanned instead.
 */
export async function monthFiguresBefore(reads: MonthFigureReads, dataset: LakeDataset, before: string): Promise<MonthFigures> {
  const kept = (await reads.kept())?.[dataset];
  const total = Object.values(kept ?? {}).reduce((sum, month) => sum + month.rows, 0);
  if (!kept || total !== (await reads.count(dataset))) return reads.scan(dataset, { before });
  const at = new Date(before);
  const monthStart = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const beforeMonth = monthStart.toISOString().slice(0, 7);
  const out: MonthFigures = Object.fromEntries(Object.entries(kept).filter(([month]) => month < beforeMonth));
  if (monthStart.getTime() < at.getTime()) Object.assign(out, await reads.scan(dataset, { from: monthStart.toISOString(), before }));
  return out;
}

/** The `Warehouse` port's month queries, one implementation for every warehouse, over what it reads. */
export type MonthFigureQueries = Pick<
  Warehouse,
  'transactionMonthCounts' | 'transactionsDatedBefore' | 'rewardMonthSummary' | 'monthFigures'
>;

export function monthFigureQueries(reads: MonthFigureReads): MonthFigureQueries {
  return {
    async transactionMonthCounts(through) {
      const figures = await monthFiguresBefore(reads, 'transactions', new Date(Date.parse(through) + 1).toISOString());
      return Object.fromEntries(Object.entries(figures).map(([month, { rows }]) => [month, rows]));
    },
    async transactionsDatedBefore(before) {
      const figures = await monthFiguresBefore(reads, 'transactions', before);
      return Object.values(figures).reduce((sum, month) => sum + month.rows, 0);
    },
    async rewardMonthSummary(before, excludeIds = []) {
      const all = await monthFiguresBefore(reads, 'rewards', before);
      if (!excludeIds.length || !Object.keys(all).length) return all;
      return summaryWithout(all, await reads.scan('rewards', { before, key: 'reward_id', onlyKeys: excludeIds }));
    },
    async monthFigures(from) {
      if (from === 'ledger') return (await reads.kept()) ?? { transactions: {}, rewards: {} };
      return { transactions: await reads.scan('transactions', {}), rewards: await reads.scan('rewards', {}) };
    },
  };
}
