import { objectLayout } from './object-layout';
import type { PipelineContext } from './pipeline-context';
import type { ObjectStore, RewardMonthSummary } from './ports';
import { summaryWithout } from './warehouse-schema';

/** How far a count difference is narrowed: years back from the last, and months whose ids are listed. */
export const SOURCE_CHECK_BOUNDS = {
  years: 20,
  monthsListed: 6,
  keysListed: 50,
  monthsRepulledPerRun: 3,
  changedKeysExcluded: 2000,
  /** `verify` leaves out of the lake's side this many changed rewards, in batches of `changedKeysExcluded`. */
  changedKeysVerified: 50_000,
} as const;

/** One month (or the bucket of everything before the years narrowed) where the source and the lake disagree. */
export interface MonthDifference {
  /** `YYYY-MM`, or `before YYYY` for everything before the years narrowed. */
  month: string;
  source: number;
  lake: number;
}

/** The first instant of a UTC month (`YYYY-MM`), and of the month after. Windows are half-open: [start, next). */
export function monthWindow(month: string): { start: string; next: string } {
  const [year, monthNumber] = month.split('-').map(Number);
  return {
    start: new Date(Date.UTC(year, monthNumber - 1, 1)).toISOString(),
    next: new Date(Date.UTC(year, monthNumber, 1)).toISOString(),
  };
}

/** The first instant of the UTC month an instant falls in. */
export function monthStartOf(instant: string): string {
  return monthWindow(instant.slice(0, 7)).start;
}

/** The source's count of transactions dated in [from, before): the client's `to` is inclusive, so it ends 1 ms before. */
export async function sourceTransactionCount(
  context: Pick<PipelineContext, 'source'>,
  window: { from?: string; before: string },
): Promise<number> {
  const to = new Date(Date.parse(window.before) - 1).toISOString();
  for await (const page of context.source.transactions({ from: window.from, to, pageSize: 1, concurrency: 1 })) return page.totalCount;
  return 0;
}

/**
 * The months, dated before `before`, where the source's count of transactions differs from the lake's
 * (`lakeMonths`: the warehouse's count per UTC month): one count per year from the lake's first (at most the last
 * `SOURCE_CHECK_BOUNDS.years`, and one for all before them), then one per month of the years that differ. The
 * caller has already found that the totals differ.
 */
export async function differingMonths(
  context: Pick<PipelineContext, 'source'>,
  lakeMonths: Record<string, number>,
  before: string,
): Promise<MonthDifference[]> {
  const lastMonth = new Date(Date.parse(before) - 1).toISOString().slice(0, 7);
  const lastYear = Number(lastMonth.slice(0, 4));
  const lakeFirstYear = Number(Object.keys(lakeMonths).sort()[0]?.slice(0, 4) ?? lastYear);
  const firstYear = Math.max(Math.min(lakeFirstYear, lastYear), lastYear - SOURCE_CHECK_BOUNDS.years + 1);
  const lakeIn = (inside: (month: string) => boolean) =>
    Object.entries(lakeMonths)
      .filter(([month]) => inside(month))
      .reduce((sum, [, n]) => sum + n, 0);
  const differences: MonthDifference[] = [];
  const earlierSource = await sourceTransactionCount(context, { before: `${firstYear}-01-01T00:00:00.000Z` });
  const earlierLake = lakeIn((month) => month < `${firstYear}-01`);
  if (earlierSource !== earlierLake) differences.push({ month: `before ${firstYear}`, source: earlierSource, lake: earlierLake });
  const end = (next: string) => (next < before ? next : before);
  for (let year = firstYear; year <= lastYear; year += 1) {
    const source = await sourceTransactionCount(context, {
      from: `${year}-01-01T00:00:00.000Z`,
      before: end(`${year + 1}-01-01T00:00:00.000Z`),
    });
    if (source === lakeIn((month) => month.startsWith(`${year}-`))) continue;
    for (let monthNumber = 1; monthNumber <= 12; monthNumber += 1) {
      const month = `${year}-${String(monthNumber).padStart(2, '0')}`;
      if (month > lastMonth) break;
      const window = monthWindow(month);
      const inSource = await sourceTransactionCount(context, { from: window.start, before: end(window.next) });
      const inLake = lakeMonths[month] ?? 0;
      if (inSource !== inLake) differences.push({ month, source: inSource, lake: inLake });
    }
  }
  return differences;
}

/** The ids of the transactions the source serves dated in [from, before) (rows that break its document included). */
export async function sourceTransactionIds(
  context: Pick<PipelineContext, 'source'>,
  window: { from: string; before: string },
): Promise<Set<string>> {
  const ids = new Set<string>();
  const to = new Date(Date.parse(window.before) - 1).toISOString();
  for await (const page of context.source.transactions({ from: window.from, to, concurrency: 1 })) {
    for (const row of page.rows) ids.add(row.id);
    for (const bad of page.invalid) {
      const id = (bad.row as { id?: unknown }).id;
      if (typeof id === 'string') ids.add(id);
    }
  }
  return ids;
}

/** What a run's check of the lake against the source found before its window, as its manifest records it. */
export interface SourceCheckRecord {
  /** The months compared end here: the first instant of the month the run's window starts in. */
  before: string;
  source: number;
  lake: number;
  /** The months that differ (only when the totals did). */
  months: MonthDifference[];
  /** Months pulled again by this run (at most `SOURCE_CHECK_BOUNDS.monthsRepulledPerRun`, oldest first). */
  repulled: string[];
  /** Months that still differ as they did after an earlier run pulled them again: left to `verify`, not pulled again. */
  known: string[];
  /** Months left for the next runs by the bound. */
  deferred: string[];
  /** The totals differ exactly as at the last check that left nothing to pull: not narrowed again (see `verify`). */
  unchangedSinceLastCheck?: boolean;
}

/** Months a run pulled again, with the source's count then: the same difference is not pulled again and again. */
export interface RepulledMonths {
  months: Record<string, { source: number; runId: string }>;
  /** Reward months (by `updatedAt`) pulled again, with the ledger's figures then. */
  rewardMonths?: Record<string, { rows: number; seconds: number; runId: string }>;
  /**
   * The totals of the last check that left nothing to pull (every difference known, or before the months narrowed):
   * while a run finds the same totals for the same window, it does not narrow again.
   */
  settled?: { before: string; source: number; lake: number };
}

async function readRepulled(store: ObjectStore): Promise<RepulledMonths> {
  if (!(await store.exists(objectLayout.repulledMonths))) return { months: {} };
  try {
    return JSON.parse(Buffer.from(await store.get(objectLayout.repulledMonths)).toString('utf8')) as RepulledMonths;
  } catch {
    // A record that cannot be read costs only re-pulls: it is rewritten at the next commit.
    return { months: {} };
  }
}

/**
 * The lake against the source before an incremental run's window, cheaply: one count of the warehouse's
 * transactions dated before `before` (the month the window starts in), one aggregate count from the source. Only
 * when they differ: the warehouse's months, `differingMonths`, and the months to pull again this run (a bounded
 * number; a month whose difference is unchanged since a run last pulled it is left to `verify`).
 */
export async function checkSourceBefore(
  context: Pick<PipelineContext, 'source' | 'warehouse' | 'store'>,
  before: string,
): Promise<SourceCheckRecord> {
  const lake = await context.warehouse.transactionsDatedBefore(before);
  const source = await sourceTransactionCount(context, { before });
  const record: SourceCheckRecord = { before, source, lake, months: [], repulled: [], known: [], deferred: [] };
  if (lake === source) return record;
  const repulled = await readRepulled(context.store);
  const settled = repulled.settled;
  if (settled && settled.before === before && settled.source === source && settled.lake === lake)
    return { ...record, unchangedSinceLastCheck: true };
  const lakeMonths = await context.warehouse.transactionMonthCounts(new Date(Date.parse(before) - 1).toISOString());
  record.months = await differingMonths(context, lakeMonths, before);
  for (const difference of record.months) {
    if (!/^\d{4}-\d{2}$/.test(difference.month)) continue;
    if (repulled.months[difference.month]?.source === difference.source) record.known.push(difference.month);
    else if (record.repulled.length < SOURCE_CHECK_BOUNDS.monthsRepulledPerRun) record.repulled.push(difference.month);
    else record.deferred.push(difference.month);
  }
  return record;
}

/** At commit: the months this run pulled again, remembered with the source's count; months that now agree forgotten. */
export async function rememberRepulledMonths(store: ObjectStore, runId: string, check: SourceCheckRecord): Promise<void> {
  if (check.unchangedSinceLastCheck) return;
  const repulled = await readRepulled(store);
  const differing = new Set(check.months.map((difference) => difference.month));
  for (const month of Object.keys(repulled.months))
    if (month < check.before.slice(0, 7) && !differing.has(month)) delete repulled.months[month];
  for (const month of check.repulled) {
    const source = check.months.find((difference) => difference.month === month)?.source ?? 0;
    repulled.months[month] = { source, runId };
  }
  if (check.source !== check.lake && !check.repulled.length && !check.deferred.length)
    repulled.settled = { before: check.before, source: check.source, lake: check.lake };
  else delete repulled.settled;
  await store.put(objectLayout.repulledMonths, JSON.stringify(repulled, null, 2), { contentType: 'application/json' });
}

/**
 * The rewards ledger summarised as it streams by (`RewardsQuery.onLedgerRow`): rows per UTC month of their change
 * instant, with the sum of those instants in whole epoch seconds, for the rows changed before `before`. The same
 * figures the warehouse gives (`rewardMonthSummary`), so a row missing from the lake, or held there at an older
 * version, shows as a month that differs, whether or not its change falls in the run's window.
 */
export class LedgerSummary {
  private readonly beforeMs: number;
  private readonly byMonth = new Map<number, { rows: number; seconds: number }>();
  unreadable = 0;

  constructor(readonly before: string) {
    this.beforeMs = Date.parse(before);
  }

  add(changedAtMs: number): void {
    if (Number.isNaN(changedAtMs)) {
      this.unreadable += 1;
      return;
    }
    if (changedAtMs >= this.beforeMs) return;
    const at = new Date(changedAtMs);
    const key = at.getUTCFullYear() * 12 + at.getUTCMonth();
    const month = this.byMonth.get(key) ?? { rows: 0, seconds: 0 };
    month.rows += 1;
    // Whole seconds toward zero, as SQL's integer MOD and division give them (before 1970 too).
    month.seconds += Math.trunc(changedAtMs / 1000);
    this.byMonth.set(key, month);
  }

  reset(): void {
    this.byMonth.clear();
    this.unreadable = 0;
  }

  months(): RewardMonthSummary {
    const out: RewardMonthSummary = {};
    for (const [key, value] of [...this.byMonth].sort(([a], [b]) => a - b))
      out[`${String(Math.floor(key / 12)).padStart(4, '0')}-${String((key % 12) + 1).padStart(2, '0')}`] = { ...value };
    return out;
  }
}

/** One month (by change instant) where the rewards ledger and the lake hold different rows or versions. */
export interface RewardMonthDifference {
  month: string;
  source: { rows: number; seconds: number };
  lake: { rows: number; seconds: number };
}

/**
 * The ids of the rewards the source changed at or after the compared months' end, gathered as the ledger streams
 * by: the lake may still hold them at an older version, in an earlier month (this run's load moves them), so they
 * are left out of its side. Beyond `SOURCE_CHECK_BOUNDS.changedKeysExcluded` ids (a first run after a long pause),
 * the comparison waits for a later run.
 */
export class ChangedRewardIds {
  readonly ids = new Set<string>();
  overflow = false;

  constructor(readonly limit: number = SOURCE_CHECK_BOUNDS.changedKeysExcluded) {}

  add(rows: readonly { id?: unknown }[]): void {
    if (this.overflow) return;
    for (const row of rows) if (typeof row.id === 'string') this.ids.add(row.id);
    if (this.ids.size > this.limit) {
      this.overflow = true;
      this.ids.clear();
    }
  }

  reset(): void {
    this.ids.clear();
    this.overflow = false;
  }
}

/**
 * The warehouse's figures per month for the rewards changed before `before`, leaving out `ids`: in one query pair
 * up to `SOURCE_CHECK_BOUNDS.changedKeysExcluded` ids (what one statement holds), else batch by batch, each batch's
 * share taken off the whole.
 */
export async function lakeRewardSummaryWithout(
  warehouse: Pick<PipelineContext['warehouse'], 'rewardMonthSummary'>,
  before: string,
  ids: readonly string[],
): Promise<RewardMonthSummary> {
  const batch = SOURCE_CHECK_BOUNDS.changedKeysExcluded;
  if (ids.length <= batch) return warehouse.rewardMonthSummary(before, ids);
  const all = await warehouse.rewardMonthSummary(before);
  const excluded: RewardMonthSummary = {};
  for (let start = 0; start < ids.length; start += batch) {
    const without = await warehouse.rewardMonthSummary(before, ids.slice(start, start + batch));
    for (const [month, figures] of Object.entries(all)) {
      const kept = without[month] ?? { rows: 0, seconds: 0 };
      const share = excluded[month] ?? { rows: 0, seconds: 0 };
      excluded[month] = { rows: share.rows + figures.rows - kept.rows, seconds: share.seconds + figures.seconds - kept.seconds };
    }
  }
  return summaryWithout(all, excluded);
}

/** What a run's check of the lake's rewards against the ledger found, as its manifest records it. */
export interface RewardsCheckRecord {
  /** Rewards changed before this instant were compared: the first instant of the month the run's window starts in. */
  before: string;
  /** Ledger rows compared, and rows in the lake. */
  source: number;
  lake: number;
  months: RewardMonthDifference[];
  /** Months whose ledger rows this run landed again (at most `SOURCE_CHECK_BOUNDS.monthsRepulledPerRun`). */
  repulled: string[];
  /** Months that still differ as they did after an earlier run landed them again: left to `verify`. */
  known: string[];
  deferred: string[];
  /** Not compared this run: more rewards changed in the window than can be left out of the lake's side. */
  skipped?: string;
}

/** The months where the ledger's figures and the lake's differ, oldest first. */
export function differingRewardMonths(source: RewardMonthSummary, lake: RewardMonthSummary): RewardMonthDifference[] {
  const none = { rows: 0, seconds: 0 };
  return [...new Set([...Object.keys(source), ...Object.keys(lake)])]
    .sort()
    .map((month) => ({ month, source: source[month] ?? none, lake: lake[month] ?? none }))
    .filter((difference) => difference.source.rows !== difference.lake.rows || difference.source.seconds !== difference.lake.seconds);
}

/**
 * The lake's rewards against the ledger this run streamed anyway, for the rewards changed before `summary.before`:
 * one query of the warehouse's figures per month; the months that differ are landed again from the ledger (a
 * bounded number per run), except those that differ exactly as they did after an earlier run landed them.
 */
export async function checkRewardsBefore(
  context: Pick<PipelineContext, 'warehouse' | 'store'>,
  summary: LedgerSummary,
  changed: ChangedRewardIds,
): Promise<RewardsCheckRecord> {
  if (changed.overflow) {
    return {
      before: summary.before,
      source: 0,
      lake: 0,
      months: [],
      repulled: [],
      known: [],
      deferred: [],
      skipped: `over ${SOURCE_CHECK_BOUNDS.changedKeysExcluded} rewards changed in the window; compared by a later run`,
    };
  }
  const source = summary.months();
  const lake = await context.warehouse.rewardMonthSummary(summary.before, [...changed.ids]);
  const total = (months: RewardMonthSummary) => Object.values(months).reduce((sum, month) => sum + month.rows, 0);
  const record: RewardsCheckRecord = {
    before: summary.before,
    source: total(source),
    lake: total(lake),
    months: differingRewardMonths(source, lake),
    repulled: [],
    known: [],
    deferred: [],
  };
  if (!record.months.length) return record;
  const remembered = (await readRepulled(context.store)).rewardMonths ?? {};
  for (const difference of record.months) {
    const earlier = remembered[difference.month];
    if (earlier && earlier.rows === difference.source.rows && earlier.seconds === difference.source.seconds)
      record.known.push(difference.month);
    else if (record.repulled.length < SOURCE_CHECK_BOUNDS.monthsRepulledPerRun) record.repulled.push(difference.month);
    else record.deferred.push(difference.month);
  }
  return record;
}

/** At commit: the reward months this run landed again, remembered with the ledger's figures; months that now agree forgotten. */
export async function rememberRepulledRewardMonths(store: ObjectStore, runId: string, check: RewardsCheckRecord): Promise<void> {
  const repulled = await readRepulled(store);
  const months = repulled.rewardMonths ?? {};
  const differing = new Set(check.months.map((difference) => difference.month));
  for (const month of Object.keys(months)) if (month < check.before.slice(0, 7) && !differing.has(month)) delete months[month];
  for (const month of check.repulled) {
    const source = check.months.find((difference) => difference.month === month)?.source ?? { rows: 0, seconds: 0 };
    months[month] = { ...source, runId };
  }
  await store.put(objectLayout.repulledMonths, JSON.stringify({ ...repulled, rewardMonths: months }, null, 2), {
    contentType: 'application/json',
  });
}
