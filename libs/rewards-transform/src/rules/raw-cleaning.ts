import type { CsvColumns } from '../engine/csv';
import { RawInputError } from '../transform-errors';
import { emptyColumn, type Column, type ColumnSpec, type Table } from '../engine/table';
import { isProblem, type Problem } from './values';

export type CellParser = (raw: string, name: string) => string | number | boolean | null | Problem;

/**
 * The shape of the common, well-formed cell of a rule, which `cleanRawCsv` reads straight from the CSV text
 * without making a string per cell. It must agree with `parse` wherever it answers; any cell it does not
 * recognise goes to `parse`, which has the last word (and the reasons).
 * - `text`: trimmed text, empty is null; `upper-text`: the same, upper-cased; `currency`: three letters A-Z;
 * - `scaled`: a decimal as a count of 10^-scale units (`integer` is scale 0); `nonNegative` sends negatives to `parse`;
 * - `instant`: an ISO-8601 instant with an offset, as epoch milliseconds;
 * - `boolean`: `true` / `false`.
 * A text shape's `maxChars` sends longer cells to `parse` (which checks a byte limit).
 */
export type FastShape =
  | { shape: 'text'; maxChars?: number }
  | { shape: 'upper-text'; maxChars?: number }
  | { shape: 'currency' }
  | { shape: 'scaled'; scale: number; nonNegative?: boolean }
  | { shape: 'instant' }
  | { shape: 'boolean' };

/** How one raw column becomes one typed column. */
export interface FieldRule {
  source: string;
  target: ColumnSpec;
  parse: CellParser;
  fast?: FastShape;
}

/** How the cleaning is bounded by where the rows go. */
export interface CleaningOptions {
  /**
   * The longest text, in UTF-8 bytes, a text column may hold (a warehouse's VARCHAR length): a longer value sends
   * its row to the rejects with the reason. Unbounded when absent.
   */
  maxTextBytes?: number;
}

/** The rules with every text column bounded to `maxTextBytes` UTF-8 bytes. */
export function limitTextBytes(rules: readonly FieldRule[], maxTextBytes: number | undefined): readonly FieldRule[] {
  if (maxTextBytes === undefined) return rules;
  if (!Number.isInteger(maxTextBytes) || maxTextBytes < 1)
    throw new RangeError(`maxTextBytes must be a positive whole number, got ${maxTextBytes}`);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a cell of no more characters than this fits without measuring.
  const maxChars = Math.floor(maxTextBytes / 3);
  return rules.map((rule) => {
    if (rule.target.kind !== 'string') return rule;
    const parse: CellParser = (raw, name) => {
      const value = rule.parse(raw, name);
      if (typeof value === 'string' && value.length > maxChars && Buffer.byteLength(value, 'utf8') > maxTextBytes) {
        return { problem: `${name} is longer than ${maxTextBytes} bytes, the warehouse's limit` };
      }
      return value;
    };
    const fast = rule.fast && (rule.fast.shape === 'text' || rule.fast.shape === 'upper-text') ? { ...rule.fast, maxChars } : rule.fast;
    return { ...rule, parse, fast };
  });
}

export interface RejectedRow {
  /** The row's cells exactly as they came, by raw column name. */
  row: Record<string, string>;
  /** Every problem found in the row, joined by "; ". */
  reason: string;
}

export interface CleaningResult {
  table: Table;
  rejects: RejectedRow[];
}

/**
 * Types every cell by its rule. A row with any unparseable cell, or a null in a non-nullable column, goes to
 * the rejects with every reason found; nothing is dropped silently. Rules whose source column the file lacks
 * read as empty, unless the column is in `required`: then the whole input is refused, naming the column.
 */
export function cleanRaw(dataset: string, csv: CsvColumns, rules: readonly FieldRule[], required: readonly string[]): CleaningResult {
  for (const column of required) {
    if (!csv.header.includes(column)) {
      throw new RawInputError(dataset, `required column "${column}" is missing (columns found: ${csv.header.join(', ') || 'none'}).`);
    }
  }
  const sourceIndex = rules.map((rule) => csv.header.indexOf(rule.source));
  const out = rules.map((rule) => emptyColumn(rule.target, csv.rowCount));
  const rejects: RejectedRow[] = [];
  const interners = rules.map(() => stringInterner());
  let kept = 0;
  const values: (string | number | boolean | null)[] = new Array(rules.length);
  for (let r = 0; r < csv.rowCount; r += 1) {
    let reasons: string[] | undefined;
    for (let f = 0; f < rules.length; f += 1) {
      const rule = rules[f];
      const raw = sourceIndex[f] < 0 ? '' : csv.columns[sourceIndex[f]][r];
      const value = rule.parse(raw, rule.source);
      if (isProblem(value)) (reasons ??= []).push(value.problem);
      else if (value === null && !rule.target.nullable) (reasons ??= []).push(`missing ${rule.source}`);
      else values[f] = value;
    }
    if (reasons) {
      const row: Record<string, string> = {};
      csv.header.forEach((name, c) => (row[name] = csv.columns[c][r]));
      rejects.push({ row, reason: [...new Set(reasons)].join('; ') });
      continue;
    }
    for (let f = 0; f < rules.length; f += 1) {
      const value = values[f];
      const column = out[f];
      if (column instanceof Float64Array) column[kept] = value === null ? Number.NaN : (value as number);
      else (column as unknown[])[kept] = typeof value === 'string' ? interners[f](value) : value;
    }
    kept += 1;
  }
  const columns: Record<string, Column> = {};
  rules.forEach((rule, f) => {
    const column = out[f];
    columns[rule.target.name] = column instanceof Float64Array ? column.slice(0, kept) : ((column as unknown[]).slice(0, kept) as Column);
  });
  return { table: { length: kept, columns }, rejects };
}

/**
 * Returns one shared string for equal values while a column has few distinct values (currencies, types,
 * merchants), so a million rows hold a handful of strings rather than a million copies. Gives up on
 * high-cardinality columns (ids) after 50,000 distinct values.
 */
function stringInterner(limit = 50_000): (value: string) => string {
  let seen: Map<string, string> | undefined = new Map();
  return (value) => {
    if (!seen) return value;
    const shared = seen.get(value);
    if (shared !== undefined) return shared;
    if (seen.size >= limit) {
      seen = undefined;
      return value;
    }
    // A flat copy, so the shared string does not pin the whole raw file in memory.
    const flat = (' ' + value).slice(1);
    seen.set(flat, flat);
    return flat;
  };
}
