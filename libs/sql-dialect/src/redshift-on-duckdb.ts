import { SqlDialectError } from './sql-dialect';

/**
 * Redshift's SQL cannot run here, so its text is run on DuckDB wherever the grammar allows. These are the only
 * spellings changed on the way, each named; everything else runs as Redshift gets it. Every test that runs
 * Redshift SQL on DuckDB goes through `redshiftSqlOnDuckDb`.
 */
export const REDSHIFT_ON_DUCKDB: readonly { name: string; pattern: RegExp; replacement: string | ((...groups: string[]) => string) }[] = [
  {
    name: "wall time as text: TO_CHAR(CONVERT_TIMEZONE('<zone>', x), 'YYYY-MM') → strftime(timezone('<zone>', x), '%Y-%m')",
    pattern: /TO_CHAR\(CONVERT_TIMEZONE\(('[A-Za-z0-9_/+-]+'), ([^()]+(?:\([^()]*\))?)\), '([^']+)'\)/g,
    replacement: (_, zone: string, timestamp: string, format: string) =>
      `strftime(timezone(${zone}, ${timestamp}), '${format.replace('YYYY', '%Y').replace('MM', '%m').replace('DD', '%d')}')`,
  },
  {
    name: 'epoch microseconds: DATEDIFF(microsecond, epoch, x) → epoch_us(x)',
    pattern: /DATEDIFF\(microsecond, TIMESTAMP '1970-01-01 00:00:00', CONVERT_TIMEZONE\('UTC', ([^()]+)\)\)/g,
    replacement: (_, timestamp: string) => `epoch_us(${timestamp})`,
  },
  {
    name: "wall time: CONVERT_TIMEZONE('<zone>', x) → timezone('<zone>', x)",
    pattern: /CONVERT_TIMEZONE\(('[A-Za-z0-9_/+-]+'), /g,
    replacement: 'timezone($1, ',
  },
  {
    name: "hexadecimal to BIGINT: STRTOL(LEFT(MD5(x), 15), 16) → CAST('0x' || LEFT(MD5(x), 15) AS BIGINT)",
    pattern: /STRTOL\(LEFT\(MD5\(/g,
    replacement: "CAST('0x' || LEFT(MD5(",
  },
  { name: 'hexadecimal to BIGINT, its end', pattern: /, 15\), 16\)/g, replacement: ', 15) AS BIGINT)' },
  { name: 'table layout: DISTKEY(…) SORTKEY(…) has no DuckDB meaning', pattern: /\)\s*DISTKEY\(.*$/s, replacement: ')' },
  {
    name: 'CREATE TEMP TABLE x (LIKE y) → CREATE TEMP TABLE x AS SELECT * FROM y LIMIT 0',
    pattern: /^CREATE TEMP TABLE ("\w+") \(LIKE ([^)]+)\)$/,
    replacement: (_, table: string, like: string) => `CREATE TEMP TABLE ${table} AS SELECT * FROM ${like} LIMIT 0`,
  },
];

/**
 * Redshift SQL as DuckDB runs it. `copyFrom` turns the S3 location of a `COPY … FROM '…' … FORMAT AS PARQUET`
 * into the local files DuckDB reads (a folder location reads every Parquet file in it).
 */
export function redshiftSqlOnDuckDb(sql: string, copyFrom?: (location: string) => string): string {
  const copy = /^COPY ("\w+") FROM '([^']+)' IAM_ROLE '[^']*' FORMAT AS PARQUET$/.exec(sql);
  if (copy) {
    if (!copyFrom) throw new SqlDialectError('SQL_NOT_PORTABLE', `A COPY needs copyFrom to run on DuckDB: ${sql}`);
    // A COPY adds no column for the `key=value` folders in its path.
    return `INSERT INTO ${copy[1]} SELECT * FROM read_parquet(${copyFrom(copy[2])}, hive_partitioning = false)`;
  }
  let out = sql;
  for (const { pattern, replacement } of REDSHIFT_ON_DUCKDB) out = out.replace(pattern, replacement as never);
  return out;
}
