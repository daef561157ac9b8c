import { takeRows, type Table } from './table';

export interface DedupeResult {
  table: Table;
  duplicatesRemoved: number;
  /** Each key's row in `table`: built anyway, and a ready hash index for a join on the key. */
  rowOfKey: Map<string | null, number>;
}

/**
 * One row per key: the one with the latest `versionColumn` (ties and tables without a version: the later
 * row wins, so a re-pulled row replaces the earlier copy). Surviving rows keep their original order.
 */
export function dedupeLatest(table: Table, keyColumn: string, versionColumn?: string): DedupeResult {
  const keys = table.columns[keyColumn] as (string | null)[];
  const versions = versionColumn ? (table.columns[versionColumn] as Float64Array) : undefined;
  const winner = new Map<string | null, number>();
  for (let i = 0; i < table.length; i += 1) {
    const current = winner.get(keys[i]);
    if (current === undefined || !versions || !(versions[i] < versions[current])) winner.set(keys[i], i);
  }
  if (winner.size === table.length) return { table, duplicatesRemoved: 0, rowOfKey: winner };
  const kept = Int32Array.from(winner.values()).sort();
  // Same keys, new positions: updating in place is cheaper than a second map.
  for (let row = 0; row < kept.length; row += 1) winner.set(keys[kept[row]], row);
  return { table: takeRows(table, kept), duplicatesRemoved: table.length - kept.length, rowOfKey: winner };
}
