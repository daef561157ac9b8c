import { Compression, EnabledStatistics, WriterPropertiesBuilder, type WriterProperties } from 'parquet-wasm/node';
import type { ParquetCompression } from './parquet-thread-protocol';
import type { ColumnSpec } from './table';

/** The Parquet writer's settings for a table of `schema`; `rowGroupRows` caps a row group (the writer's default is 1,048,576). */
export function writerProperties(schema: readonly ColumnSpec[], compression: ParquetCompression, rowGroupRows?: number): WriterProperties {
  let builder = new WriterPropertiesBuilder().setCompression(compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY);
  if (rowGroupRows !== undefined) builder = builder.setMaxRowGroupSize(rowGroupRows);
  // Min/max statistics where a reader can skip row groups by them (times, amounts, flags), not on text: the ids are
  // random and merchants unsorted, so a text column's min and max span nearly every value and prune nothing, and
  // computing them was a quarter of the write.
  for (const spec of schema) if (spec.kind === 'string') builder = builder.setColumnStatisticsEnabled(spec.name, EnabledStatistics.None);
  return builder.build();
}
