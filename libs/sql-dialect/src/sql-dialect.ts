/** The kinds of the curated columns (structurally the rules library's `ColumnSpec`). */
export type SqlColumnKind = 'string' | 'integer' | 'decimal' | 'double' | 'boolean' | 'timestamp';

export interface SqlColumnType {
  kind: SqlColumnKind;
  /** decimal only: digits in all, and after the point. */
  precision?: number;
  scale?: number;
}

/**
 * How one warehouse spells what the pipeline's SQL needs beyond what DuckDB and Redshift share. The rules
 * (`reward_facts`, de-duplication), the dashboard's views and the warehouses' load plans render through it, so a
 * difference between the two engines is written once, here, and nowhere else.
 */
export interface SqlDialect {
  readonly name: 'duckdb' | 'redshift';
  /** The column type of a curated column. */
  columnType(column: SqlColumnType): string;
  /** The name of the 64-bit floating-point type. */
  readonly doubleType: string;
  /** `YYYY-MM` of a timestamp, in UTC. */
  utcMonth(timestamp: string): string;
  /** `YYYY-MM-DD` of a timestamp, in UTC. */
  utcDay(timestamp: string): string;
  /** `YYYY-MM` of a timestamp in a time zone (an IANA name that `checkTimeZone` accepted). */
  zonedMonth(timestamp: string, timeZone: string): string;
  /** `YYYY-MM-DD` of a timestamp in a time zone. */
  zonedDay(timestamp: string, timeZone: string): string;
  /** The calendar day of a timestamp in a time zone, as a DATE. */
  zonedDate(timestamp: string, timeZone: string): string;
  /** The first day of the month of a timestamp in a time zone, as a DATE. */
  zonedMonthStart(timestamp: string, timeZone: string): string;
  /** Microseconds since 1970-01-01T00:00:00Z of a timestamp, as a BIGINT. */
  epochMicros(timestamp: string): string;
  /** The md5 of a text, as 32 lowercase hexadecimal characters. */
  md5Hex(text: string): string;
  /** The first 15 hexadecimal digits (60 bits) of a text's md5, as a non-negative BIGINT. */
  md5Prefix60(text: string): string;
  /** The longest value a text column holds, in UTF-8 bytes; absent where text is unbounded. */
  readonly maxTextBytes?: number;
}

/** SQL that could not be rendered safely (a name that is no plain identifier), or run where it cannot. */
export class SqlDialectError extends Error {
  readonly transient = false;
  constructor(
    readonly code: 'SQL_IDENTIFIER' | 'SQL_NOT_PORTABLE' | 'SQL_TIME_ZONE',
    message: string,
  ) {
    super(message);
    this.name = 'SqlDialectError';
  }
}

/** A double-quoted SQL identifier; refuses anything but plain names, so no identifier can inject SQL. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new SqlDialectError('SQL_IDENTIFIER', `Not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A single-quoted SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A database user name that needs no quoting in either dialect: lowercase letters, digits and `_`, not starting
 * with a digit, at most 63 characters. A password's md5 hash is salted with the user name, so the name must be the
 * one the database stores, and Redshift folds unquoted names to lowercase.
 */
export function isPlainUserName(name: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(name);
}

/**
 * A time zone both warehouses and this process know by the same IANA name (e.g. `Europe/London`, `UTC`): refused
 * with the reason when the name is no plain zone name or Node's time zone database does not know it. DuckDB (ICU)
 * and Redshift (`CONVERT_TIMEZONE`, https://docs.aws.amazon.com/redshift/latest/dg/CONVERT_TIMEZONE.html) read
 * the same names; an abbreviation such as `BST` is refused, since its meaning differs between databases.
 */
export function checkTimeZone(name: string): string {
  const plain = /^(UTC|[A-Z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+){1,2})$/.test(name);
  let known = false;
  try {
    known = plain && new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone.length > 0;
  } catch {
    known = false;
  }
  if (!known)
    throw new SqlDialectError(
      'SQL_TIME_ZONE',
      `Not a time zone name: ${JSON.stringify(name)}. Give an IANA name such as UTC, Europe/London or America/New_York (not an abbreviation like BST or an offset).`,
    );
  return name;
}

const decimal = (column: SqlColumnType) => `DECIMAL(${column.precision ?? 18},${column.scale ?? 0})`;

export const DUCKDB_DIALECT: SqlDialect = {
  name: 'duckdb',
  columnType: (column) =>
    ({ string: 'VARCHAR', integer: 'BIGINT', decimal: decimal(column), double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMPTZ' })[
      column.kind
    ],
  doubleType: 'DOUBLE',
  utcMonth: (timestamp) => `strftime(timezone('UTC', ${timestamp}), '%Y-%m')`,
  utcDay: (timestamp) => `strftime(timezone('UTC', ${timestamp}), '%Y-%m-%d')`,
  zonedMonth: (timestamp, zone) => `strftime(timezone(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}), '%Y-%m')`,
  zonedDay: (timestamp, zone) => `strftime(timezone(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}), '%Y-%m-%d')`,
  zonedDate: (timestamp, zone) => `CAST(timezone(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}) AS DATE)`,
  zonedMonthStart: (timestamp, zone) => `CAST(date_trunc('month', timezone(${quoteLiteral(checkTimeZone(zone))}, ${timestamp})) AS DATE)`,
  epochMicros: (timestamp) => `epoch_us(${timestamp})`,
  md5Hex: (text) => `md5(${text})`,
  md5Prefix60: (text) => `CAST('0x' || left(md5(${text}), 15) AS BIGINT)`,
};

/**
 * Redshift's VARCHAR length counts bytes of UTF-8, not characters
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html), and a COPY of a longer value fails the
 * whole load: the transform quarantines such rows first (`maxTextBytes`).
 */
const REDSHIFT_TEXT_BYTES = 4096;

/** Redshift: CONVERT_TIMEZONE('<zone>', …) gives a TIMESTAMPTZ's wall time in that zone. */
export const REDSHIFT_DIALECT: SqlDialect = {
  name: 'redshift',
  maxTextBytes: REDSHIFT_TEXT_BYTES,
  columnType: (column) =>
    ({
      string: `VARCHAR(${REDSHIFT_TEXT_BYTES})`,
      integer: 'BIGINT',
      decimal: decimal(column),
      double: 'DOUBLE PRECISION',
      boolean: 'BOOLEAN',
      timestamp: 'TIMESTAMPTZ',
    })[column.kind],
  doubleType: 'DOUBLE PRECISION',
  utcMonth: (timestamp) => `TO_CHAR(CONVERT_TIMEZONE('UTC', ${timestamp}), 'YYYY-MM')`,
  utcDay: (timestamp) => `TO_CHAR(CONVERT_TIMEZONE('UTC', ${timestamp}), 'YYYY-MM-DD')`,
  zonedMonth: (timestamp, zone) => `TO_CHAR(CONVERT_TIMEZONE(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}), 'YYYY-MM')`,
  zonedDay: (timestamp, zone) => `TO_CHAR(CONVERT_TIMEZONE(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}), 'YYYY-MM-DD')`,
  zonedDate: (timestamp, zone) => `CAST(CONVERT_TIMEZONE(${quoteLiteral(checkTimeZone(zone))}, ${timestamp}) AS DATE)`,
  zonedMonthStart: (timestamp, zone) =>
    `CAST(DATE_TRUNC('month', CONVERT_TIMEZONE(${quoteLiteral(checkTimeZone(zone))}, ${timestamp})) AS DATE)`,
  epochMicros: (timestamp) => `DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', CONVERT_TIMEZONE('UTC', ${timestamp}))`,
  md5Hex: (text) => `MD5(${text})`,
  // STRTOL reads a hexadecimal text as a BIGINT: https://docs.aws.amazon.com/redshift/latest/dg/r_STRTOL.html
  md5Prefix60: (text) => `STRTOL(LEFT(MD5(${text}), 15), 16)`,
};

/** The dialect of a warehouse by its name. */
export const SQL_DIALECTS: Record<SqlDialect['name'], SqlDialect> = { duckdb: DUCKDB_DIALECT, redshift: REDSHIFT_DIALECT };
