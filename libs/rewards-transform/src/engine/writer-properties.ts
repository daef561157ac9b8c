import { Compression, EnabledStatistics, WriterPropertiesBuilder, type WriterProperties } from 'parquet-wasm/node';
import type { ParquetCompression } from './parquet-thread-protocol';
import type { ColumnSpec } from './table';

/**
 * Columns of identifiers, nearly one distinct value per row: written without a dictionary. The writer would hash
 * every value into one until the dictionary page is full, then write the rest plain anyway; plain from the start
 * is faster to write and no larger.
 */
const IDENTIFIER_COLUMNS: ReadonlySet<string> = new Set(['transaction_id', 'reward_id', 'reference_id']);

/** The Parquet writer's settings for a table of `schema`; `rowGroupRows` caps a row group (the writer's default is 1,048,576). */
export function writerProperties(schema: readonly ColumnSpec[], compression: ParquetCompression, rowGroupRows?: number): WriterProperties {
  let builder = new WriterPropertiesBuilder().setCompression(compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY);
  if (rowGroupRows !== undefined) builder = builder.setMaxRowGroupSize(rowGroupRows);
  // Min/max statistics where a reader can skip row groups by them (times, amounts, flags), not on text: the ids are
  // random and merchants unsorted, so a text column's min and max span nearly every value and prune nothing, and
  // computing them was a quarter of the write.
  for (const spec of schema) if (spec.kind === 'string') builder = builder.setColumnStatisticsEnabled(spec.name, EnabledStatistics.None);
  for (const spec of schema) if (IDENTIFIER_COLUMNS.has(spec.name)) builder = builder.setColumnDictionaryEnabled(spec.name, false);
  return builder.build();
}
