import { quoteIdentifier } from '@org/sql-dialect';
import {
  buildRewardFacts,
  CURATED_SCHEMAS,
  DATASET_KEYS,
  DATASET_VERSIONS,
  tableToParquet,
  transformRun,
  type CuratedDataset,
  type LakeDataset,
  type Table,
} from '@org/rewards-transform';
import { concatTables, takeRows } from '@org/rewards-transform/internal';
import type { MonthFigures } from '../ports';
import { MONTH_INSTANT } from '../warehouse-months';

// What every warehouse's load must leave, whatever its plan: a reference model in TypeScript, built from the rules
// library's own definitions (de-duplication, the facts) and the incremental rule below, and a sequence of loads
// that exercises it. Each warehouse adapter runs the sequence through its own plan and compares its tables with
// the model after every load.

/** One load: the raw CSV of both datasets, as extract lands it. */
export interface RawLoad {
  transactionsCsv: string;
  rewardsCsv: string;
}

const tx = (rows: string[]) => `id,currency,amount,date,description\n${rows.join('\n')}\n`;
const rw = (rows: string[]) =>
  `id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\n${rows.join('\n')}\n`;

/**
 * Late joins both ways, older copies, corrections, duplicates inside one load, ties of versions (inside a load
 * and across loads), a rejection, and the same load twice.
 */
export const LOAD_SEQUENCE: readonly RawLoad[] = [
  // rewards before their transactions, one staged twice (the newer copy wins), one tied at the same version
  {
    transactionsCsv: tx([]),
    rewardsCsv: rw([
      'r1,1.5,false,,2026-01-01T00:00:00Z,2025-12-31T00:00:00Z,0.03,,GBP,t9',
      'r1,1.5,false,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,0.03,,GBP,t1',
      'r2,2,false,,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,0.03,,GBP,t2',
      'r3,0,true,,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,0,10,GBP,t3',
      'r5,1,false,,2026-01-05T00:00:00Z,2026-01-05T00:00:00Z,0.03,,GBP,t1',
      'r5,7,true,,2026-01-05T00:00:00Z,2026-01-05T00:00:00Z,0.03,,EUR,t2',
    ]),
  },
  // the transactions arrive: the facts join late; one transaction twice in the load with other text
  {
    transactionsCsv: tx([
      't1,GBP,-1000,2026-01-01T00:00:00Z,Shop A',
      't2,GBP,-2000,2026-01-02T00:00:00Z,Shop B',
      't2,GBP,-2000,2026-01-02T00:00:00Z,Shop B (copy)',
    ]),
    rewardsCsv: rw([]),
  },
  // a newer reward and an older copy of another; a transaction corrected; r5 again at the same version
  {
    transactionsCsv: tx(['t2,GBP,-2500,2026-01-02T00:00:00Z,Shop B corrected']),
    rewardsCsv: rw([
      'r1,1.5,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,,GBP,t1',
      'r2,9,true,,2026-01-02T00:00:00Z,2025-12-01T00:00:00Z,0.03,,GBP,t2',
      'r5,3,false,,2026-01-05T00:00:00Z,2026-01-05T00:00:00Z,0.03,,GBP,t1',
    ]),
  },
  // both at once, exact duplicates inside the staging, a rejection
  {
    transactionsCsv: tx(['t3,EUR,-300,2026-01-03T00:00:00Z,Shop C', 't3,EUR,-300,2026-01-03T00:00:00Z,Shop C']),
    rewardsCsv: rw([
      'r4,1,false,Rejected by admin,2026-01-04T00:00:00Z,2026-01-04T00:00:00Z,0.03,,EUR,t3',
      'r1,1.5,true,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.03,,GBP,t1',
    ]),
  },
  // the same load again
  {
    transactionsCsv: tx(['t3,EUR,-300,2026-01-03T00:00:00Z,Shop C']),
    rewardsCsv: rw(['r4,1,false,Rejected by admin,2026-01-04T00:00:00Z,2026-01-04T00:00:00Z,0.03,,EUR,t3']),
  },
];

/**
 * The incremental rule: a load's rows (already one per key) replace the warehouse's rows of the same keys, except
 * where the warehouse holds a newer version, which stays. A later load wins a tie of versions: a re-pulled row
 * replaces the earlier copy.
 */
function mergeLoad(dataset: LakeDataset, loaded: Table, staged: Table): Table {
  const key = DATASET_KEYS[dataset];
  const version = DATASET_VERSIONS[dataset];
  const stagedRow = new Map((staged.columns[key] as string[]).map((id, row) => [id, row]));
  const versions = (table: Table, row: number) => (version ? (table.columns[version] as Float64Array)[row] : 0);
  const keptLoaded: number[] = [];
  const droppedStaged = new Set<number>();
  (loaded.columns[key] as string[]).forEach((id, row) => {
    const other = stagedRow.get(id);
    if (other === undefined) keptLoaded.push(row);
    else if (versions(loaded, row) > versions(staged, other)) {
      keptLoaded.push(row);
      droppedStaged.add(other);
    }
  });
  const keptStaged = Array.from({ length: staged.length }, (_, row) => row).filter((row) => !droppedStaged.has(row));
  return concatTables(takeRows(loaded, keptLoaded), takeRows(staged, keptStaged));
}

/** What every warehouse must hold after `loads`, in order: both datasets and their facts. */
export function expectedWarehouse(loads: readonly RawLoad[]): Record<CuratedDataset, Table> {
  let state = transformRun({ transactionsCsv: 'id,currency,amount,date\n', rewardsCsv: 'id,amount,createdAt\n' }).tables;
  for (const load of loads) {
    const staged = transformRun(load).tables;
    state = {
      transactions: mergeLoad('transactions', state.transactions, staged.transactions),
      rewards: mergeLoad('rewards', state.rewards, staged.rewards),
    };
  }
  return { ...state, reward_facts: buildRewardFacts(state.rewards, state.transactions).table };
}

/**
 * The figures per month the warehouse's ledger must keep after `loads` (`warehouse-months.ts`), worked out here
 * from the reference model's rows with JavaScript's own calendar: each row's UTC month of its instant, and the
 * instants in whole seconds (toward zero) added up.
 */
export function expectedMonthFigures(loads: readonly RawLoad[]): Record<LakeDataset, MonthFigures> {
  const tables = expectedWarehouse(loads);
  const figures = (dataset: LakeDataset): MonthFigures => {
    const out: MonthFigures = {};
    for (const ms of tables[dataset].columns[MONTH_INSTANT[dataset]] as Float64Array) {
      const month = (out[new Date(ms).toISOString().slice(0, 7)] ??= { rows: 0, seconds: 0 });
      month.rows += 1;
      month.seconds += Math.trunc(ms / 1000);
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  };
  return { transactions: figures('transactions'), rewards: figures('rewards') };
}

/** `expectedWarehouse` as Parquet, to load beside a warehouse's tables and compare there. */
export function expectedWarehouseParquet(loads: readonly RawLoad[]): Record<CuratedDataset, Uint8Array> {
  const tables = expectedWarehouse(loads);
  return Object.fromEntries(
    (Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).map((dataset) => [
      dataset,
      tableToParquet(tables[dataset], CURATED_SCHEMAS[dataset]),
    ]),
  ) as Record<CuratedDataset, Uint8Array>;
}

/**
 * One row comparing a warehouse table (`actual`) with the expected one, every curated column of every row
 * (`IS DISTINCT FROM`: nulls count, doubles bit for bit): `actual_rows`, `expected_rows`, `joined` (rows of the
 * full join on the key) and `differences` (cells that differ). They agree when the three counts are equal and
 * `differences` is 0.
 */
export function tableDifferencesSql(dataset: CuratedDataset, actual: string, expected: string): string {
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const cells = CURATED_SCHEMAS[dataset].map(
    (spec) => `count(*) FILTER (WHERE a.${quoteIdentifier(spec.name)} IS DISTINCT FROM e.${quoteIdentifier(spec.name)})`,
  );
  return (
    `SELECT (SELECT count(*) FROM ${actual})::INTEGER AS actual_rows, (SELECT count(*) FROM ${expected})::INTEGER AS expected_rows, ` +
    `count(*)::INTEGER AS joined, (${cells.join(' + ')})::INTEGER AS differences FROM ${actual} AS a FULL JOIN ${expected} AS e USING (${key})`
  );
}
