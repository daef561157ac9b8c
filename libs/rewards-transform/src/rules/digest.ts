import { createHash } from 'node:crypto';
import { quoteIdentifier, type SqlDialect } from '@org/sql-dialect';
import type { ColumnSpec, Table } from '../engine/table';
import { CURATED_SCHEMAS, DATASET_KEYS, DATASET_VERSIONS, type CuratedDataset, type LakeDataset } from './curated-schemas';
import { canonicalRowText, canonicalRowTextSql, dedupeDataset } from './dedupe';

/**
 * The digest of a set of rows, the one definition the reconciliation compares across the lake and the warehouses:
 * the sum, modulo 2^60, of the first 15 hexadecimal digits (60 bits) of the md5 of each row's canonical text
 * (`canonicalRowText`: instants in epoch microseconds, decimals as integers of their smallest unit), over the
 * columns digested. A sum does not depend on the order of the rows, so a table, a folder of Parquet parts and an
 * in-memory table give the same digest for the same rows; it is written as a decimal text. TypeScript
 * (`rowsDigest`) and SQL (`digestSql`) stand side by side here, and a differential test runs them on DuckDB and on
 * Redshift's spelling of the SQL.
 *
 * A digest is not a security hash: it finds lost, extra, stale and edited rows, not a forger.
 */
export const DIGEST_MODULUS = 2n ** 60n;

const EMPTY_DIGEST = '0';

/**
 * The columns of a dataset's ledger digest: its key and, when it has one, its version. Two copies of a key at the
 * same version count as the same row, which is what a warehouse's merge keeps.
 */
export function ledgerDigestColumns(dataset: LakeDataset): ColumnSpec[] {
  const names = [DATASET_KEYS[dataset], DATASET_VERSIONS[dataset]].filter((name): name is string => name !== undefined);
  return names.map((name) => CURATED_SCHEMAS[dataset].find((spec) => spec.name === name) as ColumnSpec);
}

/** The columns of a table's whole-row digest: every curated column but doubles, which have no exact text. */
export function rowDigestColumns(dataset: CuratedDataset): ColumnSpec[] {
  return CURATED_SCHEMAS[dataset].filter((spec) => spec.kind !== 'double');
}

const md5Prefix60 = (text: string) => BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex').slice(0, 15)}`);

/** The digest of every row of `table`, over `columns`. */
export function rowsDigest(table: Table, columns: readonly ColumnSpec[]): string {
  let sum = 0n;
  for (let row = 0; row < table.length; row += 1) sum += md5Prefix60(canonicalRowText(table, row, columns));
  return table.length ? (sum % DIGEST_MODULUS).toString() : EMPTY_DIGEST;
}

/** The ledger digest of a dataset's rows: each key at its latest version (as `ledgerDigestSql`). */
export function ledgerDigest(table: Table, dataset: LakeDataset): string {
  return rowsDigest(dedupeDataset(table, dataset).table, ledgerDigestColumns(dataset));
}

/** Two digests added, as the digest of the union of two disjoint sets of rows. */
export function addDigests(a: string, b: string): string {
  return ((BigInt(a) + BigInt(b)) % DIGEST_MODULUS).toString();
}

/**
 * `SELECT "rows", "digest"` of `source` (a table, view or parenthesised query with the columns), over `columns`:
 * the digest as a BIGINT (below 2^60), 0 for no rows. The sum is taken in DECIMAL(38,0), which holds 2^60 times
 * more rows than any table here has, before the modulo.
 */
export function digestSql(columns: readonly ColumnSpec[], source: string, dialect: SqlDialect): string {
  const prefix = dialect.md5Prefix60(canonicalRowTextSql(columns, dialect, 'd'));
  return (
    `SELECT COUNT(*) AS "rows", CAST(COALESCE(MOD(SUM(CAST(${prefix} AS DECIMAL(38,0))), ${DIGEST_MODULUS.toString()}), 0) AS BIGINT) AS "digest" ` +
    `FROM ${source} AS d`
  );
}

/**
 * The keys of `source` at their latest version (`SELECT key[, MAX(version)] … GROUP BY key`): what a warehouse holds
 * once it has merged those rows, in the ledger digest's columns.
 */
export function latestKeysSql(dataset: LakeDataset, source: string): string {
  const key = quoteIdentifier(DATASET_KEYS[dataset]);
  const version = DATASET_VERSIONS[dataset];
  return version
    ? `SELECT ${key}, MAX(${quoteIdentifier(version)}) AS ${quoteIdentifier(version)} FROM ${source} AS s GROUP BY ${key}`
    : `SELECT DISTINCT ${key} FROM ${source} AS s`;
}

/** `SELECT "rows", "digest"` of the ledger digest of `source`'s rows: their keys at the latest version. */
export function ledgerDigestSql(dataset: LakeDataset, source: string, dialect: SqlDialect): string {
  return digestSql(ledgerDigestColumns(dataset), `(${latestKeysSql(dataset, source)})`, dialect);
}
