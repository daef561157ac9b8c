import { SchemaInvariantError } from '../transform-errors';
import { Bool, Decimal, Dictionary, Field, Float64, Int32, Int64, Schema, TimestampMicrosecond, Utf8, type DataType } from 'apache-arrow';
import { BufferRegion, DictionaryBatch, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import type { Column, ColumnSpec, Table } from './table';

/**
 * A reusable, growable byte buffer for Arrow IPC streams. The Parquet writer (parquet-wasm) takes its input as
 * one IPC stream; writing the columns straight into a buffer that lives across writes, instead of building
 * Arrow vectors and then serialising them into a second buffer, halves the bytes copied and, above all, the
 * fresh ArrayBuffers: at a million rows, each 64 MB of new ones made V8 run a full collection.
 */
export class IpcArena {
  bytes: Uint8Array;

  constructor(initialBytes = 1 << 20) {
    this.bytes = new Uint8Array(initialBytes);
  }

  /** Makes room for `size` bytes in all, keeping the first `keep`. */
  ensure(size: number, keep: number): void {
    if (size <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(size, Math.floor(this.bytes.length * 1.5)));
    bigger.set(this.bytes.subarray(0, keep));
    this.bytes = bigger;
  }
}

// Room kept in front of the record batch body for the schema, the dictionaries and the batch's metadata, which
// are only known once the body is written. If they need more, the stream is copied once into a new buffer.
const HEAD_ROOM = 1 << 20;
const pad8 = (n: number) => (n + 7) & ~7;

/**
 * A table as an Arrow IPC stream (schema, dictionary batches, one record batch), its columns written straight
 * into `arena`. The answer is a view into the arena: use it before the arena's next write.
 * Types: UTF-8 strings (dictionary-encoded when a column has few distinct values), BOOLEAN, INT64, DOUBLE,
 * DECIMAL(p, s) as 128-bit, and TIMESTAMP(MICROS, UTC); nullability as the schema says.
 */
export function tableToArrowIpc(
  table: Table,
  schema: readonly ColumnSpec[],
  arena: IpcArena = new IpcArena(),
  /**
   * The string columns that go in as dictionary codes, whatever their number of distinct values, and no other:
   * the batches of one stream (`chooseDictionaryColumns` on the first) must all have the same types.
   */
  dictionaryColumns?: ReadonlySet<string>,
): Uint8Array {
  // Growing by steps would allocate several buffers on the way; one estimate up front usually suffices.
  arena.ensure(HEAD_ROOM + estimateBodyBytes(table, schema), 0);
  const body = new BodyWriter(arena, HEAD_ROOM);
  const fields: Field[] = [];
  const dictionaries: { id: number; values: string[] }[] = [];
  schema.forEach((spec, index) => {
    const column = table.columns[spec.name];
    if (!column) throw new SchemaInvariantError(`Column ${spec.name} is missing from the table.`);
    const written = writeColumn(body, spec, column, table.length, dictionaryColumns ? dictionaryColumns.has(spec.name) : undefined);
    if (written.nullCount > 0 && !spec.nullable) {
      throw new SchemaInvariantError(`Column ${spec.name} is not nullable but has ${written.nullCount} nulls.`);
    }
    let type: DataType = written.type;
    if (written.dictionary) {
      type = new Dictionary(new Utf8(), new Int32(), index, false);
      dictionaries.push({ id: index, values: written.dictionary });
    }
    fields.push(new Field(spec.name, type, spec.nullable));
  });
  const bodyLength = body.length;

  const head: Uint8Array[] = [framed(Message.from(new Schema(fields)))];
  for (const { id, values } of dictionaries) {
    const dictionaryArena = new IpcArena(pad8(values.length * 4 + 8) + 1024);
    const dictionaryBody = new BodyWriter(dictionaryArena, 0);
    writeUtf8(dictionaryBody, values, 0);
    const batch = new RecordBatchHeader(values.length, dictionaryBody.nodes, dictionaryBody.regions, null);
    head.push(framed(Message.from(new DictionaryBatch(batch, id, false), dictionaryBody.length)));
    head.push(dictionaryArena.bytes.subarray(0, dictionaryBody.length));
  }
  head.push(framed(Message.from(new RecordBatchHeader(table.length, body.nodes, body.regions, null), bodyLength)));

  const headLength = head.reduce((sum, part) => sum + part.length, 0);
  const end = HEAD_ROOM + bodyLength;
  arena.ensure(end + 8, end);
  const bytes = arena.bytes;
  // End of stream: continuation marker, then a zero length.
  const endOfStream = new DataView(bytes.buffer, bytes.byteOffset + end, 8);
  endOfStream.setInt32(0, -1, true);
  endOfStream.setInt32(4, 0, true);
  if (headLength <= HEAD_ROOM) {
    let at = HEAD_ROOM - headLength;
    const start = at;
    for (const part of head) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes.subarray(start, end + 8);
  }
  const stream = new Uint8Array(headLength + bodyLength + 8);
  let at = 0;
  for (const part of head) {
    stream.set(part, at);
    at += part.length;
  }
  stream.set(bytes.subarray(HEAD_ROOM, end + 8), at);
  return stream;
}

/** Body bytes the columns will take, with a margin for strings (their lengths are sampled). */
function estimateBodyBytes(table: Table, schema: readonly ColumnSpec[]): number {
  const n = table.length;
  let bytes = 0;
  for (const spec of schema) {
    bytes += pad8((n + 7) >> 3) + 8;
    if (spec.kind === 'decimal') bytes += 16 * n;
    else if (spec.kind === 'boolean') bytes += pad8((n + 7) >> 3);
    else if (spec.kind !== 'string') bytes += 8 * n;
    else {
      const values = (table.columns[spec.name] ?? []) as (string | null)[];
      const step = Math.max(1, Math.floor(n / 1000));
      let sampled = 0;
      let characters = 0;
      for (let i = 0; i < n; i += step) {
        sampled += 1;
        characters += values[i]?.length ?? 0;
      }
      bytes += pad8(4 * (n + 1)) + pad8(Math.ceil(sampled ? (characters / sampled) * n * 1.25 : 0)) + 64;
    }
  }
  return bytes;
}

/** An IPC message: continuation marker, metadata length, the flatbuffer, padding to 8 bytes. */
function framed(message: Message): Uint8Array {
  const flatbuffer = Message.encode(message);
  const size = pad8(flatbuffer.length + 8);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, size - 8, true);
  out.set(flatbuffer, 8);
  return out;
}

/** Appends 8-byte-aligned buffers to a record batch body in the arena and keeps its field nodes and buffer regions. */
class BodyWriter {
  readonly nodes: FieldNode[] = [];
  readonly regions: BufferRegion[] = [];
  private end: number;

  constructor(
    private readonly arena: IpcArena,
    private readonly start: number,
  ) {
    this.end = start;
  }

  get length(): number {
    return this.end - this.start;
  }

  get bytes(): Uint8Array {
    return this.arena.bytes;
  }

  /** Where a buffer of `byteLength` bytes goes (not yet committed). */
  reserve(byteLength: number): number {
    this.arena.ensure(this.end + pad8(byteLength), this.end);
    return this.end;
  }

  /** Records the buffer at the reserved position, `byteLength` long (0: an absent buffer), zeroing its padding. */
  commit(at: number, byteLength: number): void {
    this.regions.push(new BufferRegion(at - this.start, byteLength));
    const padded = pad8(byteLength);
    this.arena.bytes.fill(0, at + byteLength, at + padded);
    this.end = at + padded;
  }

  node(length: number, nullCount: number): void {
    this.nodes.push(new FieldNode(length, nullCount));
  }
}

interface WrittenColumn {
  type: DataType;
  nullCount: number;
  /** Set when the column went in as dictionary codes: the dictionary's values. */
  dictionary?: string[];
}

/** `dictionary`: true, false, or undefined to let the column's number of distinct values decide. */
function writeColumn(body: BodyWriter, spec: ColumnSpec, column: Column, length: number, dictionary?: boolean): WrittenColumn {
  if (column instanceof Float64Array) {
    const nullCount = writeValidity(body, column, length);
    body.node(length, nullCount);
    switch (spec.kind) {
      case 'double': {
        const at = body.reserve(length * 8);
        new Float64Array(body.bytes.buffer, body.bytes.byteOffset + at, length).set(column);
        body.commit(at, length * 8);
        return { type: new Float64(), nullCount };
      }
      case 'integer':
        writeInt64(body, column, 1);
        return { type: new Int64(), nullCount };
      case 'timestamp':
        // Epoch milliseconds to microseconds: exact in a double up to year 2255.
        writeInt64(body, column, 1000);
        return { type: new TimestampMicrosecond('UTC'), nullCount };
      case 'decimal':
        writeInt128(body, column);
        return { type: new Decimal(spec.scale ?? 0, spec.precision ?? 18, 128), nullCount };
      default:
        throw new SchemaInvariantError(`Column ${spec.name} holds numbers but is declared ${spec.kind}.`);
    }
  }
  if (spec.kind === 'boolean') {
    const values = column as (boolean | null)[];
    const nullCount = writeValidity(body, values, length);
    body.node(length, nullCount);
    const byteLength = (length + 7) >> 3;
    const at = body.reserve(byteLength);
    const bytes = body.bytes;
    bytes.fill(0, at, at + byteLength);
    for (let i = 0; i < length; i += 1) if (values[i]) bytes[at + (i >> 3)] |= 1 << (i & 7);
    body.commit(at, byteLength);
    return { type: new Bool(), nullCount };
  }
  if (spec.kind !== 'string') throw new SchemaInvariantError(`Column ${spec.name} is declared ${spec.kind} but holds no numbers.`);
  const values = column as (string | null)[];
  const nullCount = writeValidity(body, values, length);
  body.node(length, nullCount);
  const codes = dictionary === false ? undefined : writeDictionaryCodes(body, values, length, dictionary ? Infinity : undefined);
  if (codes) return { type: new Utf8(), nullCount, dictionary: codes };
  writeUtf8(body, values, nullCount, true);
  return { type: new Utf8(), nullCount };
}

/**
 * The validity bitmap (NaN is null among numbers, null or undefined among the rest); an absent (zero-length)
 * buffer when nothing is null. Answers the null count.
 */
function writeValidity(body: BodyWriter, values: Float64Array | readonly unknown[], length: number): number {
  const byteLength = (length + 7) >> 3;
  const at = body.reserve(byteLength);
  const bytes = body.bytes;
  let present = 0;
  // A byte of eight bits at a time: a read-modify-write per bit was a hot spot at a million rows.
  if (values instanceof Float64Array) {
    for (let i = 0; i < length; i += 8) {
      let bits = 0;
      const end = Math.min(8, length - i);
      for (let b = 0; b < end; b += 1) if (values[i + b] === values[i + b]) bits |= 1 << b;
      bytes[at + (i >> 3)] = bits;
      present += BIT_COUNT[bits];
    }
  } else {
    for (let i = 0; i < length; i += 8) {
      let bits = 0;
      const end = Math.min(8, length - i);
      for (let b = 0; b < end; b += 1) if (values[i + b] !== null && values[i + b] !== undefined) bits |= 1 << b;
      bytes[at + (i >> 3)] = bits;
      present += BIT_COUNT[bits];
    }
  }
  const nulls = length - present;
  body.commit(at, nulls === 0 ? 0 : byteLength);
  return nulls;
}

const BIT_COUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let count = 0;
  for (let bits = byte; bits; bits >>= 1) count += bits & 1;
  return count;
});

const TWO_32 = 2 ** 32;

/**
 * Integer-valued doubles (|v| < 2^53) as little-endian int64 words, without a BigInt per value: at a million
 * rows, BigInt allocations made the garbage collector the slowest part of the write.
 */
function writeInt64(body: BodyWriter, values: Float64Array, multiplier: number): void {
  const at = body.reserve(values.length * 8);
  const words = new Int32Array(body.bytes.buffer, body.bytes.byteOffset + at, values.length * 2);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] * multiplier;
    if (Number.isNaN(value)) {
      words[2 * i] = 0;
      words[2 * i + 1] = 0;
      continue;
    }
    const high = Math.floor(value / TWO_32);
    words[2 * i] = value - high * TWO_32;
    words[2 * i + 1] = high;
  }
  body.commit(at, values.length * 8);
}

/** The same as 128-bit little-endian two's complement: int64 words, then the sign extension. */
function writeInt128(body: BodyWriter, values: Float64Array): void {
  const at = body.reserve(values.length * 16);
  const words = new Int32Array(body.bytes.buffer, body.bytes.byteOffset + at, values.length * 4);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (Number.isNaN(value)) {
      words.fill(0, 4 * i, 4 * i + 4);
      continue;
    }
    const high = Math.floor(value / TWO_32);
    words[4 * i] = value - high * TWO_32;
    words[4 * i + 1] = high;
    const sign = value < 0 ? -1 : 0;
    words[4 * i + 2] = sign;
    words[4 * i + 3] = sign;
  }
  body.commit(at, values.length * 16);
}

/**
 * Columns with few distinct values (currencies, types, merchants, months) go in as 32-bit codes into a small
 * dictionary: less to copy, and Parquet writes dictionary pages. Readers (DuckDB, Redshift COPY) see plain
 * strings. Answers undefined, having written nothing, for mostly-unique columns (ids).
 */
function writeDictionaryCodes(
  body: BodyWriter,
  values: (string | null)[],
  length: number,
  limit = dictionaryLimit(length),
): string[] | undefined {
  const codes = new Map<string, number>();
  const at = body.reserve(length * 4);
  const out = new Int32Array(body.bytes.buffer, body.bytes.byteOffset + at, length);
  for (let i = 0; i < length; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) {
      out[i] = 0;
      continue;
    }
    let code = codes.get(value);
    if (code === undefined) {
      if (codes.size >= limit) return undefined;
      codes.set(value, (code = codes.size));
    }
    out[i] = code;
  }
  body.commit(at, length * 4);
  return [...codes.keys()];
}

/** The most distinct values a column of `length` rows may have to go in as dictionary codes. */
const dictionaryLimit = (length: number) => Math.max(16, length >> 3);

/** The string columns of `table` with few enough distinct values to go in as dictionary codes. */
export function chooseDictionaryColumns(table: Table, schema: readonly ColumnSpec[]): Set<string> {
  const chosen = new Set<string>();
  const limit = dictionaryLimit(table.length);
  for (const spec of schema) {
    if (spec.kind !== 'string') continue;
    const values = table.columns[spec.name] as (string | null)[] | undefined;
    if (!values) continue;
    const distinct = new Set<string | null>();
    let few = true;
    for (let i = 0; i < table.length && few; i += 1) {
      distinct.add(values[i]);
      few = distinct.size <= limit;
    }
    if (few) chosen.add(spec.name);
  }
  return chosen;
}

const encoder = new TextEncoder();
// Printable ASCII and the usual whitespace: one byte per character.
const SINGLE_BYTE = /^[\t\n\r -~]*$/;

/**
 * A Utf8 column's offsets and bytes. With `validityWritten` the caller has written its node and validity;
 * otherwise (a dictionary's values, never null) they are written here.
 */
function writeUtf8(body: BodyWriter, values: readonly (string | null)[], nullCount: number, validityWritten = false): void {
  const length = values.length;
  if (!validityWritten) {
    body.node(length, nullCount);
    body.commit(body.reserve(0), 0);
  }
  const offsetsAt = body.reserve((length + 1) * 4);
  const offsets = new Int32Array(body.bytes.buffer, body.bytes.byteOffset + offsetsAt, length + 1);
  const joined = values.join('');
  offsets[0] = 0;
  if (SINGLE_BYTE.test(joined)) {
    // One encoding call for the whole column: byte offsets are character offsets.
    for (let i = 0; i < length; i += 1) offsets[i + 1] = offsets[i] + (values[i]?.length ?? 0);
    body.commit(offsetsAt, (length + 1) * 4);
    const at = body.reserve(joined.length);
    encoder.encodeInto(joined, body.bytes.subarray(at, at + joined.length));
    body.commit(at, joined.length);
    return;
  }
  // Offsets are known only after encoding: encode first into the room after the offsets, then fill them in.
  const bytesAt = body.reserve((length + 1) * 4 + joined.length * 3) + pad8((length + 1) * 4);
  const bytes = body.bytes;
  const offsetsView = new Int32Array(bytes.buffer, bytes.byteOffset + offsetsAt, length + 1);
  offsetsView[0] = 0;
  let position = 0;
  for (let i = 0; i < length; i += 1) {
    const value = values[i];
    if (value) position += encoder.encodeInto(value, bytes.subarray(bytesAt + position, bytesAt + joined.length * 3)).written;
    offsetsView[i + 1] = position;
  }
  body.commit(offsetsAt, (length + 1) * 4);
  const at = body.reserve(position);
  body.commit(at, position);
}
