import { SchemaInvariantError } from '../transform-errors';
/**
 * The rules work on columns, not rows: a Table holds one array per column. Numbers (integers, exact decimals
 * as scaled integers, doubles, timestamps as epoch milliseconds) live in Float64Arrays with NaN for null;
 * strings and booleans in plain arrays with null. Columnar work is what keeps 1M-row runs fast and small.
 */
export type ColumnKind = 'string' | 'integer' | 'decimal' | 'double' | 'boolean' | 'timestamp';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  nullable: boolean;
  /** decimal only: digits in all, and after the point. Values are stored as integers of 10^-scale. */
  precision?: number;
  scale?: number;
  description: string;
}

export type Column = Float64Array | (string | null)[] | (boolean | null)[];

export interface Table {
  length: number;
  columns: Record<string, Column>;
}

export const isNumericKind = (kind: ColumnKind): boolean =>
  kind === 'integer' || kind === 'decimal' || kind === 'double' || kind === 'timestamp';

export function emptyColumn(spec: ColumnSpec, length: number): Column {
  return isNumericKind(spec.kind) ? new Float64Array(length).fill(Number.NaN) : new Array(length).fill(null);
}

/** Rows [from, to) of a table: views of its numbers, copies of its other arrays' slots. */
export function sliceRows(table: Table, from: number, to: number): Table {
  const columns: Table['columns'] = {};
  for (const [name, column] of Object.entries(table.columns)) {
    columns[name] = column instanceof Float64Array ? column.subarray(from, to) : column.slice(from, to);
  }
  return { length: to - from, columns };
}

/** The rows at `indexes`, in that order, as a new table. */
export function takeRows(table: Table, indexes: ArrayLike<number>): Table {
  const columns: Record<string, Column> = {};
  for (const [name, column] of Object.entries(table.columns)) {
    if (column instanceof Float64Array) {
      const out = new Float64Array(indexes.length);
      for (let i = 0; i < indexes.length; i += 1) out[i] = column[indexes[i]];
      columns[name] = out;
    } else {
      const out = new Array(indexes.length);
      for (let i = 0; i < indexes.length; i += 1) out[i] = column[indexes[i]];
      columns[name] = out;
    }
  }
  return { length: indexes.length, columns };
}

/**
 * The rows at `indexes` (increasing), moved to the front of `table`'s own columns: no new column is made, and the
 * table answered shares them, so `table` must not be used after. What a copy would cost in memory (a second set of
 * columns at the moment the first is dropped) is what a large run's peak is made of.
 */
export function compactRows(table: Table, indexes: ArrayLike<number>): Table {
  const columns: Record<string, Column> = {};
  const length = indexes.length;
  for (const [name, column] of Object.entries(table.columns)) {
    for (let i = 0; i < length; i += 1) column[i] = column[indexes[i]];
    if (column instanceof Float64Array) columns[name] = column.subarray(0, length);
    else {
      column.length = length;
      columns[name] = column;
    }
  }
  return { length, columns };
}

/** Rows of `a` then rows of `b`; both must have the same columns. */
export function concatTables(a: Table, b: Table): Table {
  const columns: Record<string, Column> = {};
  for (const [name, left] of Object.entries(a.columns)) {
    const right = b.columns[name];
    if (!right) throw new SchemaInvariantError(`Cannot concatenate tables: column ${name} is missing on one side.`);
    if (left instanceof Float64Array) {
      const out = new Float64Array(a.length + b.length);
      out.set(left, 0);
      out.set(right as Float64Array, a.length);
      columns[name] = out;
    } else {
      columns[name] = (left as unknown[]).concat(right as unknown[]) as Column;
    }
  }
  return { length: a.length + b.length, columns };
}

/** One row as a plain object: numbers with NaN turned into null (for tests and small outputs). */
export function rowAt(table: Table, index: number): Record<string, string | number | boolean | null> {
  const row: Record<string, string | number | boolean | null> = {};
  for (const [name, column] of Object.entries(table.columns)) {
    const value = column[index];
    row[name] = typeof value === 'number' && Number.isNaN(value) ? null : (value as string | number | boolean | null);
  }
  return row;
}

export function tableRows(table: Table): Record<string, string | number | boolean | null>[] {
  return Array.from({ length: table.length }, (_, i) => rowAt(table, i));
}
