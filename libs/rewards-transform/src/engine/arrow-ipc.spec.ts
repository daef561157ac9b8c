import { tableFromIPC } from 'apache-arrow';
import { IpcArena, tableToArrowIpc } from './arrow-ipc';
import { parquetToTable } from './parquet-input';
import { tableToParquet } from './parquet-output';
import { tableRows, type ColumnSpec, type Table } from './table';

const SCHEMA: ColumnSpec[] = [
  { name: 'id', kind: 'string', nullable: false, description: 'mostly unique: plain UTF-8' },
  { name: 'merchant', kind: 'string', nullable: true, description: 'few values: dictionary' },
  { name: 'amount', kind: 'decimal', precision: 18, scale: 2, nullable: true, description: '' },
  { name: 'count', kind: 'integer', nullable: true, description: '' },
  { name: 'at', kind: 'timestamp', nullable: true, description: '' },
  { name: 'ratio', kind: 'double', nullable: true, description: '' },
  { name: 'flag', kind: 'boolean', nullable: true, description: '' },
];

function sample(rows: number, idOf: (i: number) => string = (i) => `id-${i}`): Table {
  const merchants = ['TESCO', 'CAFFÈ NERO', 'ZAŻÓŁĆ GĘŚLĄ', null];
  return {
    length: rows,
    columns: {
      id: Array.from({ length: rows }, (_, i) => idOf(i)),
      merchant: Array.from({ length: rows }, (_, i) => merchants[i % merchants.length]),
      amount: Float64Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? Number.NaN : (i % 2 ? -1 : 1) * i * 1234567)),
      count: Float64Array.from({ length: rows }, (_, i) => (i % 7 === 6 ? Number.NaN : 2 ** 40 + i)),
      at: Float64Array.from({ length: rows }, (_, i) => (i % 9 === 8 ? Number.NaN : Date.UTC(2024, 2, 31, 1, 30) + i * 1000)),
      ratio: Float64Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? Number.NaN : i / 3)),
      flag: Array.from({ length: rows }, (_, i) => (i % 4 === 3 ? null : i % 2 === 0)),
    },
  };
}

describe('tableToArrowIpc', () => {
  it('writes a stream Arrow JS reads back value for value, nulls, negatives and unicode included', () => {
    const table = sample(1000, (i) => (i % 10 === 0 ? `ünïcode-${i}` : `id-${i}`));
    const arrow = tableFromIPC(tableToArrowIpc(table, SCHEMA));
    expect(arrow.numRows).toBe(1000);
    expect(arrow.schema.fields.map((field) => [field.name, String(field.type), field.nullable])).toEqual([
      ['id', 'Utf8', false],
      ['merchant', 'Dictionary<Int32, Utf8>', true],
      ['amount', 'Decimal[18e+2]', true], // Arrow JS's way of writing DECIMAL(18, 2)
      ['count', 'Int64', true],
      ['at', 'Timestamp<MICROSECOND, UTC>', true],
      ['ratio', 'Float64', true],
      ['flag', 'Bool', true],
    ]);
    for (const i of [0, 1, 3, 4, 6, 8, 10, 999]) {
      const row = arrow.get(i)?.toJSON() as Record<string, unknown>;
      expect(row['id']).toBe(table.columns['id'][i]);
      expect(row['merchant']).toBe(table.columns['merchant'][i]);
      expect(row['count']).toBe(i % 7 === 6 ? null : BigInt(2 ** 40 + i));
      // Arrow JS answers timestamps in epoch milliseconds, whatever the unit stored.
      expect(row['at']).toBe(i % 9 === 8 ? null : Date.UTC(2024, 2, 31, 1, 30) + i * 1000);
      expect(row['ratio']).toBe(i % 3 === 2 ? null : i / 3);
      expect(row['flag']).toBe(table.columns['flag'][i]);
    }
  });

  it('round-trips through Parquet exactly, reusing one arena for tables of different sizes', () => {
    const arena = new IpcArena(64);
    for (const rows of [3000, 10, 0, 2500]) {
      const table = sample(rows);
      expect(tableRows(parquetToTable(tableToParquet(table, SCHEMA, 'snappy', arena), SCHEMA))).toEqual(tableRows(table));
    }
  });

  it('still writes a valid stream when the dictionaries outgrow the room kept for them', () => {
    // 200,000 rows of 25,000 distinct 60-character merchants: a 1.5 MB dictionary, over the 1 MB head room.
    const rows = 200_000;
    const table = sample(rows);
    table.columns['merchant'] = Array.from({ length: rows }, (_, i) => `MERCHANT ${String(i % 25_000).padStart(6, '0')} ${'X'.repeat(44)}`);
    const arrow = tableFromIPC(tableToArrowIpc(table, SCHEMA));
    expect(String(arrow.schema.fields[1].type)).toBe('Dictionary<Int32, Utf8>');
    expect(arrow.getChild('merchant')?.get(123_456)).toBe(table.columns['merchant'][123_456]);
    expect(arrow.getChild('id')?.get(rows - 1)).toBe(`id-${rows - 1}`);
  });

  it('refuses nulls in a column the schema says is not nullable, naming it', () => {
    const table = sample(3);
    table.columns['id'] = ['a', null, 'c'];
    expect(() => tableToArrowIpc(table, SCHEMA)).toThrow('Column id is not nullable but has 1 nulls.');
  });
});
