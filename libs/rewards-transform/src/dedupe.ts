import { KeyIndex, type KeyLookup } from './key-index';
import { takeRows, type Table } from './table';

export interface DedupeResult {
  table: Table;
  duplicatesRemoved: number;
  /** Each key's row in `table`: a ready hash index for a join on the key (built on first use if rows moved). */
  index(): KeyLookup;
}

/**
 * One row per key: the one with the latest `versionColumn` (ties and tables without a version: the later
 * row wins, so a re-pulled row replaces the earlier copy). Surviving rows keep their original order.
 */
export function dedupeLatest(table: Table, keyColumn: string, versionColumn?: string): DedupeResult {
  const keys = table.columns[keyColumn] as (string | null)[];
  const versions = versionColumn ? (table.columns[versionColumn] as Float64Array) : undefined;
  const index = new KeyIndex(keys, table.length);
  const winning = new Uint8Array(table.length);
  let duplicates = 0;
  for (let row = 0; row < table.length; row += 1) {
    const earlier = index.insertOrFind(row);
    if (earlier < 0) {
      winning[row] = 1;
      continue;
    }
    duplicates += 1;
    if (!versions || !(versions[row] < versions[earlier])) {
      index.replaceFound(row);
      winning[earlier] = 0;
      winning[row] = 1;
    }
  }
  if (duplicates === 0) return { table, duplicatesRemoved: 0, index: () => index };
  const kept = new Int32Array(table.length - duplicates);
  for (let row = 0, k = 0; row < table.length; row += 1) if (winning[row]) kept[k++] = row;
  const deduped = takeRows(table, kept);
  let keptIndex: KeyIndex | undefined;
  return {
    table: deduped,
    duplicatesRemoved: duplicates,
    index: () => (keptIndex ??= KeyIndex.of(deduped.columns[keyColumn] as (string | null)[])),
  };
}
