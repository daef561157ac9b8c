import { createHash } from 'node:crypto';
import { quoteIdentifier, type SqlDialect } from '@org/sql-dialect';
import { KeyIndex, type KeyLookup } from '../engine/key-index';
import { compactRows, takeRows, type ColumnSpec, type Table } from '../engine/table';
import { SchemaInvariantError } from '../transform-errors';
import { CURATED_SCHEMAS, DATASET_KEYS, DATASET_VERSIONS, type LakeDataset } from './curated-schemas';

/**
 * De-duplication, the one definition: of the rows that share a key, the one kept is the first in this total
 * order, which uses the rows' values only:
 *   1. the latest version (`DATASET_VERSIONS`: `updated_at` for rewards; transactions have none);
 *   2. then the greatest md5 of the row's canonical text (`canonicalRowText`), in lowercase hexadecimal.
 * Never a file's or a row's position: a COPY in the warehouse cannot reproduce those. The TypeScript
 * (`dedupeLatest`, in the transform) and the SQL (`latestRowsSql`, in the warehouses' loads) stand side by side
 * here, and a differential test proves they keep the same row of every key.
 *
 * The canonical text of a row: each column of the curated schema in order, `N` for null or `V` and the value,
 * joined by the unit separator (U+001F). Values are written exactly: text as it is, integers and decimals as
 * the integer of their smallest unit (a decimal of scale 8 times 10^8), instants as microseconds since the
 * epoch, booleans as `true`/`false`.
 */
const SEPARATOR = '\u001f';

export interface DedupeResult {
  table: Table;
  duplicatesRemoved: number;
  /** Each key's row in `table`: a ready hash index for a join on the key (built on first use if rows moved). */
  index(): KeyLookup;
}

/** One row's canonical text (see above), for the columns of `schema`. */
export function canonicalRowText(table: Table, row: number, schema: readonly ColumnSpec[]): string {
  return schema
    .map((spec) => {
      const value = table.columns[spec.name][row];
      if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return 'N';
      switch (spec.kind) {
        case 'string':
          return `V${value as string}`;
        case 'boolean':
          return `V${value ? 'true' : 'false'}`;
        case 'integer':
        case 'decimal':
          // Stored as the integer of the smallest unit already.
          return `V${BigInt(value as number).toString()}`;
        case 'timestamp':
          return `V${BigInt(value as number) * 1000n}`;
        case 'double':
          throw new SchemaInvariantError(
            `Column ${spec.name} is a double: doubles have no exact canonical text, so no row identity uses them.`,
          );
      }
    })
    .join(SEPARATOR);
}

const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** The SQL of `canonicalRowText` over the columns of `schema` (of the row `alias`, when given). */
export function canonicalRowTextSql(schema: readonly ColumnSpec[], dialect: SqlDialect, alias?: string): string {
  const fields = schema.map((spec) => {
    if (spec.kind === 'double') throw new SchemaInvariantError(`Column ${spec.name} is a double: no row identity uses doubles.`);
    const column = `${alias ? `${alias}.` : ''}${quoteIdentifier(spec.name)}`;
    const text = {
      string: column,
      boolean: `CASE WHEN ${column} THEN 'true' ELSE 'false' END`,
      integer: `CAST(${column} AS VARCHAR)`,
      decimal: `CAST(CAST(${column} * ${10 ** (spec.scale ?? 0)} AS DECIMAL(38,0)) AS VARCHAR)`,
      timestamp: `CAST(${dialect.epochMicros(column)} AS VARCHAR)`,
    }[spec.kind];
    return `CASE WHEN ${column} IS NULL THEN 'N' ELSE 'V' || ${text} END`;
  });
  return fields.join(' || chr(31) || ');
}

/**
 * The SQL order of `dedupeLatest`'s total order: the row kept for a key sorts first. Over rows of several loads,
 * `laterLoadFirst` (an expression that sorts later loads first, e.g. `"run" DESC`) comes between the version and
 * the hash: a later load wins a tie of versions, as it does in the warehouse's merge, where a re-pulled row
 * replaces the earlier copy.
 */
export function latestFirstOrderSql(
  dataset: LakeDataset,
  dialect: SqlDialect,
  options: { alias?: string; laterLoadFirst?: string } = {},
): string {
  const version = DATASET_VERSIONS[dataset];
  const prefix = options.alias ? `${options.alias}.` : '';
  return [
    ...(version ? [`${prefix}${quoteIdentifier(version)} DESC`] : []),
    ...(options.laterLoadFirst ? [options.laterLoadFirst] : []),
    `${dialect.md5Hex(canonicalRowTextSql(CURATED_SCHEMAS[dataset], dialect, options.alias))} DESC`,
  ].join(', ');
}

/**
 * The latest row of each key of `source` (a table or view with the dataset's curated columns), in those columns.
 * Rows of keys that appear once pass straight through; only the keys that appear more than once are ranked, so
 * a first load of millions of rows streams instead of sorting them all.
 */
export function latestRowsSql(dataset: LakeDataset, source: string, dialect: SqlDialect): string {
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');
  const repeated = `(SELECT ${key} FROM ${source} GROUP BY ${key} HAVING COUNT(*) > 1)`;
  return (
    `SELECT ${columns} FROM ${source} WHERE ${key} NOT IN ${repeated} ` +
    `UNION ALL SELECT ${columns} FROM (SELECT ${columns}, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${latestFirstOrderSql(dataset, dialect)}) AS "row_rank" ` +
    `FROM ${source} WHERE ${key} IN ${repeated}) AS ranked WHERE "row_rank" = 1`
  );
}

/** `dedupeLatest` with a dataset's key, version and schema. */
export function dedupeDataset(table: Table, dataset: LakeDataset, options: DedupeOptions = {}): DedupeResult {
  return dedupeLatest(table, DATASET_KEYS[dataset], DATASET_VERSIONS[dataset], CURATED_SCHEMAS[dataset], options);
}

export interface DedupeOptions {
  /** The kept rows moved to the front of `table`'s own columns (`compactRows`), not copied: `table` is not used after. */
  inPlace?: boolean;
}

/**
 * One row per key, the first in the total order above; `schema` gives the columns of the canonical text.
 * Surviving rows keep their original order.
 */
export function dedupeLatest(
  table: Table,
  keyColumn: string,
  versionColumn: string | undefined,
  schema: readonly ColumnSpec[],
  options: DedupeOptions = {},
): DedupeResult {
  const keys = table.columns[keyColumn] as (string | null)[];
  const versions = versionColumn ? (table.columns[versionColumn] as Float64Array) : undefined;
  const index = new KeyIndex(keys, table.length);
  const winning = new Uint8Array(table.length);
  // Hashes only of rows that meet a duplicate at the same version: most runs compute none.
  const hashes = new Map<number, string>();
  const hashOf = (row: number) => {
    let hash = hashes.get(row);
    if (hash === undefined) hashes.set(row, (hash = md5Hex(canonicalRowText(table, row, schema))));
    return hash;
  };
  let duplicates = 0;
  for (let row = 0; row < table.length; row += 1) {
    const earlier = index.insertOrFind(row);
    if (earlier < 0) {
      winning[row] = 1;
      continue;
    }
    duplicates += 1;
    const newer = versions ? versions[row] > versions[earlier] : false;
    const same = versions ? versions[row] === versions[earlier] : true;
    if (newer || (same && hashOf(row) > hashOf(earlier))) {
      index.replaceFound(row);
      winning[earlier] = 0;
      winning[row] = 1;
    }
  }
  if (duplicates === 0) return { table, duplicatesRemoved: 0, index: () => index };
  const kept = new Int32Array(table.length - duplicates);
  for (let row = 0, k = 0; row < table.length; row += 1) if (winning[row]) kept[k++] = row;
  const deduped = options.inPlace ? compactRows(table, kept) : takeRows(table, kept);
  let keptIndex: KeyIndex | undefined;
  return {
    table: deduped,
    duplicatesRemoved: duplicates,
    index: () => (keptIndex ??= KeyIndex.of(deduped.columns[keyColumn] as (string | null)[])),
  };
}
