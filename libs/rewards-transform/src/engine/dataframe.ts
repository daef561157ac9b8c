import { DataFrame } from 'danfojs-node';
import type { CsvColumns } from './csv';
import type { ColumnSpec, Table } from './table';

/**
 * danfojs-node DataFrames at the edges. The rules run on columns (see table.ts): at 1M rows a DataFrame per
 * step costs seconds and gigabytes (see docs/BENCHMARKS.md), so frames are built once, for whoever wants
 * to explore the result with danfojs, and raw frames can be fed in.
 */
export function tableToDataFrame(table: Table, schema: readonly ColumnSpec[]): DataFrame {
  const data: Record<string, unknown[]> = {};
  for (const spec of schema) {
    const column = table.columns[spec.name];
    if (column instanceof Float64Array) {
      const divisor = spec.kind === 'decimal' ? 10 ** (spec.scale ?? 0) : 1;
      data[spec.name] = Array.from(column, (value) =>
        Number.isNaN(value) ? null : spec.kind === 'timestamp' ? new Date(value).toISOString() : value / divisor,
      );
    } else {
      data[spec.name] = column as unknown[];
    }
  }
  return new DataFrame(data);
}

/** A DataFrame of raw API fields (as text or JSON values) to the CSV columns the cleaning rules take. */
export function dataFrameToRawColumns(frame: DataFrame): CsvColumns {
  const header = frame.columns.map(String);
  const columns = header.map((name) =>
    (frame[name].values as unknown[]).map((value) =>
      value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value)) ? '' : String(value),
    ),
  );
  return { header, columns, rowCount: frame.shape[0] };
}
