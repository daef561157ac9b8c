export {
  DUCKDB_DIALECT,
  REDSHIFT_DIALECT,
  SQL_DIALECTS,
  SqlDialectError,
  checkTimeZone,
  isPlainUserName,
  quoteIdentifier,
  quoteLiteral,
  type SqlDialect,
  type SqlColumnKind,
  type SqlColumnType,
} from './sql-dialect';
export { REDSHIFT_ON_DUCKDB, redshiftSqlOnDuckDb } from './redshift-on-duckdb';
