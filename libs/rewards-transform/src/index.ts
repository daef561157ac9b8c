// The public surface: what README.md documents. The engine's parts (the one-pass CSV reader, hash indexes, the
// Arrow IPC writer, value parsers) are in `@org/rewards-transform/internal`, for this repository's tests and
// benchmarks, with no compatibility promise; danfojs interop is `@org/rewards-transform/dataframe`.
export {
  transformRun,
  transformDataset,
  mergeDatasetQuality,
  type TransformInput,
  type TransformOutput,
  type TransformPhase,
  type DatasetOutput,
} from './transform-run';
export { parseCsv, formatCsv, csvCell, CsvFormatError, type CsvColumns } from './engine/csv';
export { cleanTransactions, cleanRewards } from './rules/clean-datasets';
export type { CleaningOptions } from './rules/raw-cleaning';
export {
  buildRewardFacts,
  rewardFactsSelectSql,
  rewardFactsSqlExpressions,
  PLU_PRICE_NOTES,
  type RewardFactsResult,
} from './rules/reward-facts';
export { dedupeDataset, latestRowsSql, latestFirstOrderSql, canonicalRowText, canonicalRowTextSql } from './rules/dedupe';
export { rowsDigest, ledgerDigest, digestSql, ledgerDigestSql, latestKeysSql, ledgerDigestColumns, rowDigestColumns } from './rules/digest';
export { merchantCategory } from './rules/merchant-category';
export { tableToParquet, type ParquetCompression } from './engine/parquet-output';
export type { QualityReport, DatasetQuality } from './rules/quality-report';
export { RawInputError, SchemaInvariantError, TransformError } from './transform-errors';
export type { Table, Column, ColumnSpec, ColumnKind } from './engine/table';
export * from './rules/curated-schemas';
