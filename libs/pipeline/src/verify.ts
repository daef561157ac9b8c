import { LAKE_DATASETS, type LakeDataset } from '@org/rewards-transform';
import { readCursor } from './cursor-state';
import { ManifestUnreadableError } from './pipeline-errors';
import { readLakeRuns, type LoadedRun } from './lake-runs';
import { verifyManifestChain } from './manifest-chain';
import { objectLayout } from './object-layout';
import type { PipelineContext } from './pipeline-context';
import type { MonthFigures } from './ports';
import { compareWarehouseWithLake } from './reconcile';
import {
  ChangedRewardIds,
  differingMonths,
  differingRewardMonths,
  lakeRewardSummaryWithout,
  LedgerSummary,
  monthWindow,
  sourceTransactionCount,
  sourceTransactionIds,
  SOURCE_CHECK_BOUNDS,
} from './source-check';

/** One check of `verify`: what was compared with what, and every difference found. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  /** What was compared, in a line. */
  detail: string;
  problems: string[];
}

export interface VerifyReport {
  ok: boolean;
  checks: VerifyCheck[];
  /** The lake against the source, by month: what differs, with keys where listed. */
  sourceMonths: SourceMonthDifference[];
}

export interface SourceMonthDifference {
  /** Transactions by date (the default), or rewards by the month of their last change. */
  dataset?: 'rewards';
  month: string;
  source: number;
  lake: number;
  /** Ids the source serves and the lake lacks, and ids the lake holds that the source no longer serves. */
  missing?: string[];
  extra?: string[];
  /** Why this dataset could not be compared at all (the check fails: nothing was proven). */
  notCompared?: string;
  acknowledged: boolean;
}

/** Differences a user has looked at and accepted (`verify --accept`): runs and `verify` go on past them. */
export interface AcceptedDifferences {
  acceptedAt: string;
  months: Record<string, { source: number; lake: number; missing: string[]; extra: string[] }>;
}

/**
 * What only a warehouse that can read the lake's Parquet can recompute (`verify --deep`): each committed run's
 * digests from its files, and the tables' digests against the lake's latest rows.
 */
export interface DeepVerifier {
  runDigests(run: LoadedRun): Promise<Record<LakeDataset, { rows: number; digest: string }>>;
  /** Each table's digest and the lake's (over every committed run), and the facts against a fresh derivation. */
  tablesAgainstLake(runs: readonly LoadedRun[]): Promise<{ name: string; warehouse: string; lake: string }[]>;
}

const ACCEPTED_KEY = objectLayout.acceptedDifferences;

/**
 * The months where the ledger's figures differ from the tables' own: figures a run trusts while their totals agree
 * with the tables' counts, so a difference with equal totals is mended only by a rebuild. At most 20 listed.
 */
export function monthFigureDifferences(kept: Record<LakeDataset, MonthFigures>, tables: Record<LakeDataset, MonthFigures>): string[] {
  const problems: string[] = [];
  for (const dataset of LAKE_DATASETS) {
    for (const month of [...new Set([...Object.keys(kept[dataset]), ...Object.keys(tables[dataset])])].sort()) {
      const [held, actual] = [kept[dataset][month] ?? { rows: 0, seconds: 0 }, tables[dataset][month] ?? { rows: 0, seconds: 0 }];
      if (held.rows !== actual.rows || held.seconds !== actual.seconds)
        problems.push(
          `${dataset} ${month}: the ledger's figures per month say ${held.rows} rows (${held.seconds} s), the table holds ${actual.rows} (${actual.seconds} s)`,
        );
    }
  }
  if (!problems.length) return [];
  const listed = problems.slice(0, 20).concat(problems.length > 20 ? [`… and ${problems.length - 20} more months`] : []);
  return [...listed, 'figures per month that agree in total but not by month are mended by `rebuild`'];
}

/**
 * `verify`: proves, read-only, the audit trail of manifests, the warehouse against the lake (its ledger, counts and
 * digests), the catalog against the committed runs, and the lake against the source (one aggregate count, narrowed
 * by year and month only where it differs); with `deep`, digests recomputed from the Parquet and the tables. `accept`
 * records the source differences found as acknowledged (the only write).
 */
export async function verifyPipeline(
  context: Pick<PipelineContext, 'store' | 'warehouse' | 'catalog' | 'source' | 'now'>,
  options: { deep?: DeepVerifier; accept?: boolean } = {},
): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const lake = await readLakeRuns(context.store);
  const chain = await verifyManifestChain(context.store, lake.manifests);
  checks.push({
    name: 'audit trail',
    ok: chain.problems.length === 0,
    detail: `${chain.linksChecked} committed manifest(s) checked against the one before${chain.unchained ? `; ${chain.unchained} from before the chain start it` : ''}`,
    problems: chain.problems,
  });

  const ledger = await context.warehouse.ledger();
  const counts = await context.warehouse.tableCounts();
  const cursor = await readCursor(context.store);
  const comparison = compareWarehouseWithLake({ committed: lake.committed, loadable: lake.loadable, ledger, counts, cursor });
  const warehouseProblems = [...comparison.problems];
  if (comparison.lost) warehouseProblems.push(`the warehouse is empty, but the cursor says ${cursor.warehouseRows} rows were loaded`);
  if (comparison.replay.length)
    warehouseProblems.push(
      `${comparison.replay.length} committed run(s) are not in the warehouse (${comparison.replay
        .slice(0, 3)
        .map((run) => run.runId)
        .join(', ')}${comparison.replay.length > 3 ? ', …' : ''}): the next run replays them`,
    );
  if (comparison.rederiveFacts)
    warehouseProblems.push(
      `reward_facts holds ${counts.reward_facts} rows where the ledger recorded ${ledger.at(-1)?.inTable.reward_facts}: the next run derives them again`,
    );
  if (comparison.adopt) warehouseProblems.push('the warehouse keeps no ledger yet: the next run starts one');
  for (const entry of comparison.unrecordedLoads)
    warehouseProblems.push(`run ${entry.runId} is in the warehouse, but its manifest never recorded the load: the next run records it`);
  const keptMonths = await context.warehouse.monthFigures('ledger');
  // A warehouse of an earlier version keeps none until its next load computes them: not a difference.
  const notKeptYet = LAKE_DATASETS.filter((dataset) => !Object.keys(keptMonths[dataset]).length && counts[dataset] > 0);
  for (const dataset of LAKE_DATASETS) {
    const kept = Object.values(keptMonths[dataset]).reduce((sum, month) => sum + month.rows, 0);
    if (kept !== counts[dataset] && !notKeptYet.includes(dataset))
      warehouseProblems.push(
        `the ledger's figures per month count ${kept} ${dataset} where the table holds ${counts[dataset]}: the next run computes them again from the table`,
      );
  }
  const manifestsById = new Map(lake.manifests.map((manifest) => [manifest.runId, manifest]));
  let digestsCompared = 0;
  for (const entry of ledger) {
    const recorded = manifestsById.get(entry.runId)?.steps.load?.digests;
    if (!recorded) continue;
    for (const dataset of LAKE_DATASETS) {
      const held = entry.loaded[dataset];
      if (!held) continue;
      digestsCompared += 1;
      if (recorded[dataset] !== held.digest)
        warehouseProblems.push(
          `run ${entry.runId}, ${dataset}: the manifest records digest ${recorded[dataset]}, the warehouse's ledger ${held.digest}`,
        );
    }
  }
  checks.push({
    name: 'warehouse against lake',
    ok: warehouseProblems.length === 0,
    detail:
      `${lake.committed.length} committed run(s), ${ledger.length} in the warehouse's ledger; tables hold ${counts.transactions} transactions, ` +
      `${counts.rewards} rewards, ${counts.reward_facts} reward_facts; ${digestsCompared} run digest(s) compared with the manifests` +
      (notKeptYet.length ? `; the ledger keeps no figures per month of ${notKeptYet.join(' or ')} yet (the next load computes them)` : ''),
    problems: warehouseProblems,
  });

  const registered = new Set((await context.catalog.listPartitions()).map((partition) => `${partition.dataset}/${partition.runId}`));
  const catalogProblems: string[] = [];
  const expected = new Set<string>();
  for (const run of lake.committed)
    for (const dataset of LAKE_DATASETS) if (run.parts[dataset].length) expected.add(`${dataset}/${run.runId}`);
  for (const key of expected) if (!registered.has(key)) catalogProblems.push(`${key}: committed, not in the catalog`);
  const committedIds = new Set(lake.committed.map((run) => run.runId));
  for (const key of registered)
    if (!committedIds.has(key.split('/')[1])) catalogProblems.push(`${key}: in the catalog, not a committed run`);
  checks.push({
    name: 'catalog against committed runs',
    ok: catalogProblems.length === 0,
    detail: `${expected.size} partition(s) expected from the committed runs, ${registered.size} registered`,
    problems: catalogProblems.slice(0, 20).concat(catalogProblems.length > 20 ? [`… and ${catalogProblems.length - 20} more`] : []),
  });

  if (options.deep) {
    const deepProblems: string[] = [];
    for (const run of lake.committed) {
      const fromParquet = await options.deep.runDigests(run);
      const recorded = manifestsById.get(run.runId)?.steps.load?.digests;
      const entry = ledger.find((candidate) => candidate.runId === run.runId);
      for (const dataset of LAKE_DATASETS) {
        if (recorded && recorded[dataset] !== fromParquet[dataset].digest)
          deepProblems.push(
            `run ${run.runId}, ${dataset}: its Parquet digests to ${fromParquet[dataset].digest}, its manifest records ${recorded[dataset]}`,
          );
        const held = entry?.loaded[dataset];
        if (held && held.digest !== fromParquet[dataset].digest)
          deepProblems.push(
            `run ${run.runId}, ${dataset}: its Parquet digests to ${fromParquet[dataset].digest}, the warehouse's ledger ${held.digest}`,
          );
      }
    }
    for (const table of await options.deep.tablesAgainstLake(lake.committed)) {
      if (table.warehouse !== table.lake)
        deepProblems.push(`${table.name}: the warehouse digests to ${table.warehouse}, the lake to ${table.lake}`);
    }
    const tableMonths = await context.warehouse.monthFigures('tables');
    for (const dataset of notKeptYet) keptMonths[dataset] = tableMonths[dataset];
    deepProblems.push(...monthFigureDifferences(keptMonths, tableMonths));
    checks.push({
      name: 'deep: digests from Parquet and tables',
      ok: deepProblems.length === 0,
      detail: `${lake.committed.length} committed run(s) digested from their Parquet; every table digested against the lake's latest rows; the ledger's figures per month recomputed from the tables`,
      problems: deepProblems,
    });
  }

  const sourceMonths = [
    ...(await compareLakeWithSource(context, cursor.transactionsThrough)),
    ...(await compareRewardsWithLedger(context, cursor.rewardsUpdatedThrough)),
  ];
  const accepted = await readAccepted(context);
  // Nothing proven cannot be accepted: a dataset not compared stays open until a run lets it be compared.
  const acceptable = sourceMonths.filter((month) => !month.notCompared);
  for (const month of acceptable) {
    const known = accepted?.months[acceptedKey(month)];
    month.acknowledged =
      known !== undefined &&
      known.source === month.source &&
      known.lake === month.lake &&
      sameKeys(known.missing, month.missing) &&
      sameKeys(known.extra, month.extra);
  }
  if (options.accept) {
    const months = Object.fromEntries(
      acceptable.map((month) => [
        acceptedKey(month),
        { source: month.source, lake: month.lake, missing: month.missing ?? [], extra: month.extra ?? [] },
      ]),
    );
    await context.store.put(ACCEPTED_KEY, JSON.stringify({ acceptedAt: context.now().toISOString(), months }, null, 2), {
      contentType: 'application/json',
    });
    for (const month of acceptable) month.acknowledged = true;
  }
  const open = sourceMonths.filter((month) => !month.acknowledged);
  checks.push({
    name: 'lake against source',
    ok: open.length === 0,
    detail: cursor.transactionsThrough
      ? `transactions dated up to ${cursor.transactionsThrough}, rewards changed up to ${cursor.rewardsUpdatedThrough ?? 'none'}: ${sourceMonths.length ? `${sourceMonths.length} month(s) differ, ${sourceMonths.length - open.length} acknowledged` : 'the source and the lake hold the same rows'}`
      : 'nothing loaded yet',
    problems: open.map((month) => {
      const keys = (label: string, ids: readonly string[] | undefined) =>
        ids?.length ? `; ${label}: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}` : '';
      if (month.notCompared) return `${month.dataset ?? 'transactions'}: not compared: ${month.notCompared}`;
      return month.dataset === 'rewards'
        ? `rewards ${month.month}: the ledger holds ${month.source} reward(s) last changed then, the lake ${month.lake}` +
            (month.missing?.length || month.extra?.length ? '' : ' (the same ids, at other versions)') +
            keys('missing or at an older version', month.missing) +
            keys('not in the ledger at that version', month.extra)
        : `${month.month}: the source serves ${month.source} transaction(s), the lake holds ${month.lake}` +
            keys('missing', month.missing) +
            keys('no longer served', month.extra);
    }),
  });
  return { ok: checks.every((check) => check.ok), checks, sourceMonths };
}

/** Where an accepted difference is kept: transactions by month (as before rewards were compared), rewards apart. */
const acceptedKey = (month: SourceMonthDifference) => (month.dataset === 'rewards' ? `rewards ${month.month}` : month.month);

const sameKeys = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());

async function readAccepted(context: Pick<PipelineContext, 'store'>): Promise<AcceptedDifferences | undefined> {
  if (!(await context.store.exists(ACCEPTED_KEY))) return undefined;
  const text = Buffer.from(await context.store.get(ACCEPTED_KEY)).toString('utf8');
  try {
    return JSON.parse(text) as AcceptedDifferences;
  } catch (error) {
    throw new ManifestUnreadableError(
      `The record of accepted differences ${context.store.locate(ACCEPTED_KEY)} is not JSON (${(error as Error).message}): delete it and run \`verify --accept\` again to acknowledge what is listed.`,
      { cause: error },
    );
  }
}

/**
 * The lake against the source, bounded: one aggregate count of every transaction dated up to `through`; only when
 * it differs from the lake's, narrowed by year and month (`differingMonths`), and the ids of at most
 * `SOURCE_CHECK_BOUNDS.monthsListed` differing months compared.
 */
async function compareLakeWithSource(
  context: Pick<PipelineContext, 'source' | 'warehouse'>,
  through: string | null,
): Promise<SourceMonthDifference[]> {
  if (!through) return [];
  const before = new Date(Date.parse(through) + 1).toISOString();
  const lakeMonths = await context.warehouse.transactionMonthCounts(through);
  const lakeTotal = Object.values(lakeMonths).reduce((a, b) => a + b, 0);
  if ((await sourceTransactionCount(context, { before })) === lakeTotal) return [];
  const differences: SourceMonthDifference[] = (await differingMonths(context, lakeMonths, before)).map((d) => ({
    ...d,
    acknowledged: false,
  }));
  for (const difference of differences.filter((d) => /^\d{4}-\d{2}$/.test(d.month)).slice(0, SOURCE_CHECK_BOUNDS.monthsListed)) {
    const window = monthWindow(difference.month);
    const monthBefore = window.next < before ? window.next : before;
    const sourceIds = await sourceTransactionIds(context, { from: window.start, before: monthBefore });
    const lakeIds = new Set(await context.warehouse.transactionIdsBetween(window.start, monthBefore));
    difference.missing = [...sourceIds].filter((id) => !lakeIds.has(id)).slice(0, SOURCE_CHECK_BOUNDS.keysListed);
    difference.extra = [...lakeIds].filter((id) => !sourceIds.has(id)).slice(0, SOURCE_CHECK_BOUNDS.keysListed);
  }
  return differences;
}

/**
 * The lake's rewards against the ledger, for the rewards changed up to `through` (the cursor): the whole ledger
 * streamed once and summarised by month of change (`LedgerSummary`), against the warehouse's figures; only where a
 * month differs, the ledger read again for the ids of at most `SOURCE_CHECK_BOUNDS.monthsListed` such months.
 */
async function compareRewardsWithLedger(
  context: Pick<PipelineContext, 'source' | 'warehouse'>,
  through: string | null,
): Promise<SourceMonthDifference[]> {
  if (!through) return [];
  const before = new Date(Date.parse(through) + 1).toISOString();
  const summary = new LedgerSummary(before);
  // Rewards changed since the last run are in the lake at their older version: left out of its side.
  const changed = new ChangedRewardIds(SOURCE_CHECK_BOUNDS.changedKeysVerified);
  await context.source.readRewards(
    { changedSince: before, onLedgerRow: (changedAtMs) => summary.add(changedAtMs) },
    (rows, details) => {
      changed.add(rows);
      changed.add(details.invalid.map((bad) => bad.row as { id?: unknown }));
    },
    () => {
      summary.reset();
      changed.reset();
    },
  );
  if (changed.overflow)
    return [
      {
        dataset: 'rewards',
        month: 'not compared',
        source: Object.values(summary.months()).reduce((sum, month) => sum + month.rows, 0),
        lake: 0,
        notCompared: `over ${SOURCE_CHECK_BOUNDS.changedKeysVerified} rewards changed since the last run, more than verify can leave out of the lake's side: run the pipeline, then verify again`,
        acknowledged: false,
      },
    ];
  const months = differingRewardMonths(summary.months(), await lakeRewardSummaryWithout(context.warehouse, before, [...changed.ids]));
  if (!months.length) return [];
  const listed = months.slice(0, SOURCE_CHECK_BOUNDS.monthsListed).map((difference) => difference.month);
  const ledgerIds = new Map(listed.map((month) => [month, new Set<string>()]));
  const collect = (row: { id?: unknown; updatedAt?: unknown; createdAt?: unknown }) => {
    const changed = Date.parse(String(row.updatedAt ?? row.createdAt));
    if (Number.isNaN(changed) || changed >= Date.parse(before) || typeof row.id !== 'string') return;
    ledgerIds.get(new Date(changed).toISOString().slice(0, 7))?.add(row.id);
  };
  await context.source.readRewards(
    {},
    (rows, details) => {
      for (const row of rows) collect(row);
      for (const bad of details.invalid) collect(bad.row as Record<string, unknown>);
    },
    () => ledgerIds.forEach((ids) => ids.clear()),
  );
  const differences: SourceMonthDifference[] = [];
  for (const difference of months) {
    const entry: SourceMonthDifference = {
      dataset: 'rewards',
      month: difference.month,
      source: difference.source.rows,
      lake: difference.lake.rows,
      acknowledged: false,
    };
    const inLedger = ledgerIds.get(difference.month);
    if (inLedger) {
      const window = monthWindow(difference.month);
      const inLake = new Set(await context.warehouse.rewardIdsUpdatedBetween(window.start, window.next < before ? window.next : before));
      entry.missing = [...inLedger].filter((id) => !inLake.has(id)).slice(0, SOURCE_CHECK_BOUNDS.keysListed);
      entry.extra = [...inLake].filter((id) => !inLedger.has(id)).slice(0, SOURCE_CHECK_BOUNDS.keysListed);
    }
    differences.push(entry);
  }
  return differences;
}
