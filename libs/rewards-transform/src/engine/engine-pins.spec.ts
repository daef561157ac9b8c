import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import * as arrowMessage from 'apache-arrow/ipc/metadata/message';
import { wasmMemory } from 'parquet-wasm/node';
import { tableToArrowIpc } from './arrow-ipc';
import { parquetToTable } from './parquet-input';
import { reserveWasmMemory, tableToParquet } from './parquet-output';
import { tableRows, type ColumnSpec, type Table } from './table';

// The engine leans on two things its dependencies do not promise: apache-arrow's internal IPC message classes
// (a deep import) and parquet-wasm's allocator keeping the memory it once took. Both are pinned exactly, and
// these tests fail loudly, naming the assumption, when an upgrade breaks either.
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const installed = (name: string) =>
  (
    JSON.parse(
      readFileSync(join(require.resolve(name).split(`node_modules/${name}`)[0], 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;

const SCHEMA: ColumnSpec[] = [
  { name: 'id', kind: 'string', nullable: false, description: '' },
  { name: 'merchant', kind: 'string', nullable: true, description: '' },
  { name: 'amount', kind: 'decimal', precision: 18, scale: 2, nullable: true, description: '' },
  { name: 'at', kind: 'timestamp', nullable: true, description: '' },
  { name: 'flag', kind: 'boolean', nullable: true, description: '' },
];
const sample = (rows: number): Table => ({
  length: rows,
  columns: {
    id: Array.from({ length: rows }, (_, i) => `id-${i}`),
    merchant: Array.from({ length: rows }, (_, i) => ['TESCO', 'CAFFÈ NERO', null][i % 3]),
    amount: Float64Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? Number.NaN : i * 125)),
    at: Float64Array.from({ length: rows }, (_, i) => Date.UTC(2024, 2, 31) + i * 1000),
    flag: Array.from({ length: rows }, (_, i) => (i % 4 === 3 ? null : i % 2 === 0)),
  },
});

describe('what the engine assumes of apache-arrow and parquet-wasm', () => {
  it('pins both exactly, and runs against those very versions', () => {
    for (const name of ['apache-arrow', 'parquet-wasm']) {
      expect({ name, pin: manifest.dependencies[name] }).toEqual({ name, pin: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
      expect({ name, installed: installed(name) }).toEqual({ name, installed: manifest.dependencies[name] });
    }
  });

  it('deep-imports apache-arrow/ipc/metadata/message, and what it writes with those classes is read back by apache-arrow itself', () => {
    for (const name of ['Message', 'RecordBatch', 'DictionaryBatch', 'FieldNode', 'BufferRegion'] as const) {
      expect({ name, type: typeof (arrowMessage as Record<string, unknown>)[name] }).toEqual({ name, type: 'function' });
    }
    const table = sample(1000);
    const read = tableFromIPC(tableToArrowIpc(table, SCHEMA));
    expect(read.numRows).toBe(1000);
    expect(read.schema.fields.map((field) => field.name)).toEqual(SCHEMA.map((spec) => spec.name));
    expect(String(read.getChild('merchant')?.get(1))).toBe('CAFFÈ NERO');
  });

  it("keeps parquet-wasm's memory once reserved: a write that fits needs no growth (the allocator trick)", () => {
    const table = sample(50_000);
    const ipcBytes = tableToArrowIpc(table, SCHEMA).length;
    reserveWasmMemory(wasmMemory().buffer.byteLength + ipcBytes * 4);
    const reserved = wasmMemory().buffer.byteLength;
    expect(reserved).toBeGreaterThanOrEqual(ipcBytes * 4);
    const parquet = tableToParquet(table, SCHEMA);
    // Had the allocator handed the reserved memory back, the write would have grown WebAssembly memory again.
    expect(wasmMemory().buffer.byteLength).toBe(reserved);
    expect(tableRows(parquetToTable(parquet, SCHEMA)).slice(0, 3)).toEqual(tableRows(table).slice(0, 3));
  });
});
