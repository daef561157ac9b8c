import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  checkTimeZone,
  isPlainUserName,
  DUCKDB_DIALECT,
  quoteIdentifier,
  quoteLiteral,
  REDSHIFT_DIALECT,
  SqlDialectError,
  type SqlDialect,
} from './sql-dialect';
import { redshiftSqlOnDuckDb } from './redshift-on-duckdb';

// Each expression of both dialects, run on DuckDB (Redshift's through the named substitutions), against values
// worked out by hand: the same instant gives the same month, day and microseconds in both.
describe('the dialects', () => {
  let db: DuckDBConnection;
  beforeAll(async () => {
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(() => db.closeSync());

  const evaluate = async (dialect: SqlDialect, expression: (d: SqlDialect) => string) => {
    const sql = `SELECT ${expression(dialect)} AS v FROM (SELECT TIMESTAMPTZ '2024-03-31 23:30:00.123456+00' AS ts, 'abc' AS t) AS x`;
    const run = dialect.name === 'redshift' ? redshiftSqlOnDuckDb(sql) : sql;
    return String((await db.runAndReadAll(run)).getRowObjectsJson()[0]['v']);
  };

  it.each([DUCKDB_DIALECT, REDSHIFT_DIALECT])('$name: UTC month and day, epoch microseconds and md5 of a known value', async (dialect) => {
    expect(await evaluate(dialect, (d) => d.utcMonth('x.ts'))).toBe('2024-03');
    expect(await evaluate(dialect, (d) => d.utcDay('x.ts'))).toBe('2024-03-31');
    expect(await evaluate(dialect, (d) => d.epochMicros('x.ts'))).toBe(String(Date.UTC(2024, 2, 31, 23, 30, 0, 123) * 1000 + 456));
    // RFC 1321's test suite: MD5("abc").
    expect(await evaluate(dialect, (d) => d.md5Hex('x.t'))).toBe('900150983cd24fb0d6963f7d28e17f72');
    // BigInt('0x900150983cd24fb'), computed outside SQL.
    expect(await evaluate(dialect, (d) => d.md5Prefix60('x.t'))).toBe(String(BigInt('0x900150983cd24fb')));
  });

  // Node's own time zone database (Intl) is the oracle: the same instants near midnight, month ends and daylight
  // saving changes give the same local day and month in both dialects' SQL as in Intl.
  const instants = ['2024-03-31T23:30:00Z', '2024-03-31T00:30:00Z', '2026-06-30T23:30:00Z', '2026-10-25T00:59:59Z', '2026-12-31T15:00:00Z'];
  const zones = ['UTC', 'Europe/London', 'America/New_York', 'Asia/Tokyo', 'Australia/Adelaide'];
  const intlDay = (instant: string, timeZone: string) =>
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
  it.each([DUCKDB_DIALECT, REDSHIFT_DIALECT])('$name: the day and month of an instant in a time zone agree with Intl', async (dialect) => {
    for (const zone of zones) {
      for (const instant of instants) {
        const day = intlDay(instant, zone);
        const sql = `SELECT ${dialect.zonedDay('x.ts', zone)} AS d, ${dialect.zonedMonth('x.ts', zone)} AS m, CAST(${dialect.zonedDate('x.ts', zone)} AS VARCHAR) AS dd, CAST(${dialect.zonedMonthStart('x.ts', zone)} AS VARCHAR) AS ms FROM (SELECT TIMESTAMPTZ '${instant}' AS ts) AS x`;
        const row = (await db.runAndReadAll(dialect.name === 'redshift' ? redshiftSqlOnDuckDb(sql) : sql)).getRowObjectsJson()[0];
        expect({ zone, instant, ...row }).toEqual({ zone, instant, d: day, m: day.slice(0, 7), dd: day, ms: `${day.slice(0, 7)}-01` });
      }
    }
  });

  it('accepts IANA time zone names only, so no zone name can inject SQL or mean different things in two engines', () => {
    for (const zone of zones) expect(checkTimeZone(zone)).toBe(zone);
    for (const bad of ['BST', 'Not/AZone', "UTC'; DROP TABLE x; --", '+01:00', '', 'europe/london'])
      expect(() => checkTimeZone(bad)).toThrow(expect.objectContaining({ code: 'SQL_TIME_ZONE' }));
    expect(() => DUCKDB_DIALECT.zonedDay('ts', "x'y")).toThrow(SqlDialectError);
  });

  it('knows a plain user name: lowercase letters, digits and _, not first a digit, at most 63', () => {
    for (const name of ['looker_studio', '_reader', 'r2', 'a'.repeat(63)]) expect(isPlainUserName(name)).toBe(true);
    for (const name of ['Looker', '2reader', 'looker-studio', 'a'.repeat(64), '', 'x; DROP TABLE t', 'reader"']) {
      expect(isPlainUserName(name)).toBe(false);
    }
  });

  it('types the curated kinds in each warehouse', () => {
    const kinds = ['string', 'integer', 'double', 'boolean', 'timestamp'] as const;
    expect(kinds.map((kind) => DUCKDB_DIALECT.columnType({ kind }))).toEqual(['VARCHAR', 'BIGINT', 'DOUBLE', 'BOOLEAN', 'TIMESTAMPTZ']);
    expect(kinds.map((kind) => REDSHIFT_DIALECT.columnType({ kind }))).toEqual([
      'VARCHAR(4096)',
      'BIGINT',
      'DOUBLE PRECISION',
      'BOOLEAN',
      'TIMESTAMPTZ',
    ]);
    expect(REDSHIFT_DIALECT.columnType({ kind: 'decimal', precision: 20, scale: 8 })).toBe('DECIMAL(20,8)');
  });

  it('quotes identifiers and literals, refusing anything that could inject', () => {
    expect(quoteIdentifier('reward_facts')).toBe('"reward_facts"');
    expect(() => quoteIdentifier('x"; DROP TABLE rewards; --')).toThrow(SqlDialectError);
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });

  it('runs a Redshift COPY on DuckDB only when told where its files are', () => {
    const copy = `COPY "staging" FROM 's3://b/curated/x/run=1/' IAM_ROLE 'arn:aws:iam::1:role/r' FORMAT AS PARQUET`;
    expect(() => redshiftSqlOnDuckDb(copy)).toThrow(SqlDialectError);
    expect(redshiftSqlOnDuckDb(copy, (location) => quoteLiteral(`/tmp${location.slice(4)}*`))).toBe(
      `INSERT INTO "staging" SELECT * FROM read_parquet('/tmp/b/curated/x/run=1/*', hive_partitioning = false)`,
    );
    expect(redshiftSqlOnDuckDb('CREATE TEMP TABLE "s" (LIKE "rewards"."rewards")')).toBe(
      'CREATE TEMP TABLE "s" AS SELECT * FROM "rewards"."rewards" LIMIT 0',
    );
  });
});
