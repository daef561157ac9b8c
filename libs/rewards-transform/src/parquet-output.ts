import {
  Bool,
  Decimal,
  Dictionary,
  Int32,
  Float64,
  Int64,
  makeData,
  makeVector,
  Table as ArrowTable,
  tableToIPC,
  TimestampMicrosecond,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { Compression, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm/node';
import type { ColumnSpec, Table } from './table';

export type ParquetCompression = 'snappy' | 'zstd';

/**
 * A table to Parquet bytes with logical types that DuckDB and Redshift COPY ... FORMAT AS PARQUET both read:
 * UTF8 strings, BOOLEAN, INT64, DOUBLE, DECIMAL(p, s) for money, and TIMESTAMP(MICROS, UTC) for instants.
 * Built column-wise into Arrow, then written by the Rust Parquet writer (parquet-wasm).
 */
export function tableToParquet(table: Table, schema: readonly ColumnSpec[], compression: ParquetCompression = 'snappy'): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const spec of schema) {
    const column = table.columns[spec.name];
    if (!column) throw new Error(`Column ${spec.name} is missing from the table.`);
    vectors[spec.name] = toVector(spec, column, table.length);
  }
  const arrow = new ArrowTable(vectors);
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(arrow, 'stream'));
  const properties = new WriterPropertiesBuilder()
    .setCompression(compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY)
    .build();
  return writeParquet(wasmTable, properties);
}

function toVector(spec: ColumnSpec, column: Table['columns'][string], length: number): Vector {
  switch (spec.kind) {
    case 'string':
      return dictionaryOrUtf8Vector(column as (string | null)[]);
    case 'boolean':
      return boolVector(column as (boolean | null)[]);
    case 'double': {
      const values = column as Float64Array;
      return makeVector(makeData({ type: new Float64(), length, data: values, nullBitmap: validity(values) }));
    }
    case 'integer': {
      const values = column as Float64Array;
      return makeVector(makeData({ type: new Int64(), length, data: int64Words(values, 1), nullBitmap: validity(values) }));
    }
    case 'timestamp': {
      const values = column as Float64Array;
      // Epoch milliseconds to microseconds: exact in a double up to year 2255.
      return makeVector(
        makeData({ type: new TimestampMicrosecond('UTC'), length, data: int64Words(values, 1000), nullBitmap: validity(values) }),
      );
    }
    case 'decimal': {
      const values = column as Float64Array;
      const type = new Decimal(spec.scale ?? 0, spec.precision ?? 18, 128);
      return makeVector(makeData({ type, length, data: int128Words(values), nullBitmap: validity(values) }));
    }
  }
}

const TWO_32 = 2 ** 32;

/**
 * Integer-valued doubles (|v| < 2^53) as little-endian int64 words, without a BigInt per value: at a million
 * rows, BigInt allocations made the garbage collector the slowest part of the write.
 */
function int64Words(values: Float64Array, multiplier: number): Int32Array {
  const words = new Int32Array(values.length * 2);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] * multiplier;
    if (Number.isNaN(value)) continue;
    const high = Math.floor(value / TWO_32);
    words[2 * i] = value - high * TWO_32;
    words[2 * i + 1] = high;
  }
  return words;
}

/** The same as 128-bit little-endian two's complement: int64 words, then the sign extension. */
function int128Words(values: Float64Array): Uint32Array {
  const words = new Int32Array(values.length * 4);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (Number.isNaN(value)) continue;
    const high = Math.floor(value / TWO_32);
    words[4 * i] = value - high * TWO_32;
    words[4 * i + 1] = high;
    const sign = value < 0 ? -1 : 0;
    words[4 * i + 2] = sign;
    words[4 * i + 3] = sign;
  }
  return new Uint32Array(words.buffer);
}

/** Arrow validity bitmap from NaN-as-null numbers; undefined when nothing is null. */
function validity(values: Float64Array): Uint8Array | undefined {
  let nulls = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i += 1) {
    if (Number.isNaN(values[i])) nulls += 1;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return nulls === 0 ? undefined : bitmap;
}

const encoder = new TextEncoder();
// Printable ASCII and the usual whitespace: one byte per character.
const SINGLE_BYTE = /^[\t\n\r -~]*$/;

/** Validity bitmap of a column of strings or booleans (null = absent). */
function presence(values: readonly unknown[]): { bitmap: Uint8Array | undefined } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  for (let i = 0; i < values.length; i += 1) {
    if (values[i] === null || values[i] === undefined) nulls += 1;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return { bitmap: nulls ? bitmap : undefined };
}

/**
 * Columns with few distinct values (currencies, types, merchants, months) become dictionary-encoded: a small
 * string dictionary plus 32-bit indexes, which is less to copy and lets Parquet write dictionary pages. Readers
 * (DuckDB, Redshift COPY) see plain strings. Mostly-unique columns (ids) stay plain UTF-8.
 */
function dictionaryOrUtf8Vector(values: (string | null)[]): Vector {
  const limit = Math.max(16, values.length >> 3);
  const codes = new Map<string, number>();
  const indexes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    let code = codes.get(value);
    if (code === undefined) {
      if (codes.size >= limit) return utf8Vector(values);
      codes.set(value, (code = codes.size));
    }
    indexes[i] = code;
  }
  const dictionary = utf8Vector([...codes.keys()]);
  return makeVector(
    makeData({ type: new Dictionary(new Utf8(), new Int32()), length: values.length, data: indexes, dictionary, nullBitmap: presence(values).bitmap }),
  );
}

/** Utf8 vector built directly (offsets + bytes): Arrow's generic builder is the slow path at 1M rows. */
function utf8Vector(values: (string | null)[]): Vector {
  const length = values.length;
  const { bitmap } = presence(values);
  const offsets = new Int32Array(length + 1);
  const joined = values.join('');
  let bytes: Uint8Array;
  if (SINGLE_BYTE.test(joined)) {
    // One encoding call for the whole column: byte offsets are character offsets.
    for (let i = 0; i < length; i += 1) offsets[i + 1] = offsets[i] + (values[i]?.length ?? 0);
    bytes = encoder.encode(joined);
  } else {
    const buffer = new Uint8Array(joined.length * 3 + 16);
    let position = 0;
    for (let i = 0; i < length; i += 1) {
      const value = values[i];
      if (value) position += encoder.encodeInto(value, buffer.subarray(position)).written;
      offsets[i + 1] = position;
    }
    bytes = buffer.subarray(0, position);
  }
  return makeVector(makeData({ type: new Utf8(), length, valueOffsets: offsets, data: bytes, nullBitmap: bitmap }));
}

function boolVector(values: (boolean | null)[]): Vector {
  const data = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i += 1) if (values[i]) data[i >> 3] |= 1 << (i & 7);
  return makeVector(makeData({ type: new Bool(), length: values.length, data, nullBitmap: presence(values).bitmap }));
}
