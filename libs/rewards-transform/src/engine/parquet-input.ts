import { SchemaInvariantError } from '../transform-errors';
import { tableFromIPC, type Vector } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import type { Column, ColumnSpec, Table } from './table';

/**
 * Curated Parquet (as tableToParquet writes it) back to a Table, so a run can join against the transactions
 * of earlier runs. Columns not in `schema` are ignored; a missing schema column is an error.
 */
export function parquetToTable(bytes: Uint8Array, schema: readonly ColumnSpec[]): Table {
  const arrow = tableFromIPC(readParquet(bytes).intoIPCStream());
  const columns: Record<string, Column> = {};
  for (const spec of schema) {
    const vector = arrow.getChild(spec.name);
    if (!vector) throw new SchemaInvariantError(`Parquet has no column ${spec.name}.`);
    columns[spec.name] = fromVector(spec, vector, arrow.numRows);
  }
  return { length: arrow.numRows, columns };
}

function fromVector(spec: ColumnSpec, vector: Vector, length: number): Column {
  if (spec.kind === 'string' || spec.kind === 'boolean') {
    const out = new Array(length);
    for (let i = 0; i < length; i += 1) out[i] = vector.get(i) ?? null;
    return out;
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i += 1) {
    const value: unknown = vector.get(i);
    out[i] = value === null || value === undefined ? Number.NaN : toNumber(spec, value);
  }
  return out;
}

function toNumber(spec: ColumnSpec, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return spec.kind === 'timestamp' ? Number(value / 1000n) : Number(value);
  // Decimal128 comes back as 4 little-endian 32-bit words; our values fit the low 64 bits.
  if (value instanceof Uint32Array) {
    const high = value[1] | 0;
    return high * 2 ** 32 + value[0];
  }
  throw new SchemaInvariantError(`Unexpected ${typeof value} in column ${spec.name}.`);
}
