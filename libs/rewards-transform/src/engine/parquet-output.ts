import { Table as WasmTable, wasmMemory, writeParquet } from 'parquet-wasm/node';
import { IpcArena, tableToArrowIpc } from './arrow-ipc';
import type { ParquetCompression } from './parquet-thread-protocol';
import type { ColumnSpec, Table } from './table';
import { writerProperties } from './writer-properties';

export type { ParquetCompression };

/**
 * A table to Parquet bytes with logical types that DuckDB and Redshift COPY ... FORMAT AS PARQUET both read:
 * UTF8 strings, BOOLEAN, INT64, DOUBLE, DECIMAL(p, s) for money, and TIMESTAMP(MICROS, UTC) for instants.
 * The columns go into an Arrow IPC stream, which the Rust Parquet writer (parquet-wasm) reads. Pass one `arena`
 * to several calls to reuse its memory.
 */
export function tableToParquet(
  table: Table,
  schema: readonly ColumnSpec[],
  compression: ParquetCompression = 'snappy',
  arena: IpcArena = new IpcArena(),
): Uint8Array {
  const ipc = tableToArrowIpc(table, schema, arena);
  reserveWasmMemory(ipc.length * WASM_BYTES_PER_IPC_BYTE);
  const wasmTable = WasmTable.fromIPCStream(ipc);
  // writeParquet takes ownership of (and frees) the wasm table and properties.
  return writeParquet(wasmTable, writerProperties(schema, compression));
}

// Reading a stream and writing Parquet needs the stream's copy, the arrays read from it and the writer's pages.
const WASM_BYTES_PER_IPC_BYTE = 2.5;

/**
 * Makes parquet-wasm's allocator take the memory a large write will need in one step. Left alone, it grows
 * WebAssembly memory in many small steps while it reads a large stream; V8 counts each step as new external
 * memory the size of the whole memory and answers with a full garbage collection, which at a million rows cost
 * about a second of collections that freed nothing. The allocator keeps what it once took, so handing it one large
 * (empty, hence unreadable) stream, which it copies in and frees, leaves that memory ready for the real write.
 */
export function reserveWasmMemory(bytes: number): void {
  if (bytes <= wasmMemory().buffer.byteLength) return;
  try {
    WasmTable.fromIPCStream(new Uint8Array(Math.ceil(bytes)));
  } catch {
    // Expected: zeros are no IPC stream. The memory stays with the allocator.
  }
}
