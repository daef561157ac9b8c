import { CsvFormatError, parseCsv, readCsvRecord, readQuotedCell, unquotedCellEnd } from './csv';
import { cleanRaw, type CleaningResult, type FieldRule, type RejectedRow } from '../rules/raw-cleaning';
import { emptyColumn, type Column } from './table';
import { RawInputError } from '../transform-errors';
import { fastInstant, fastScaled, type Problem } from '../rules/values';

/**
 * Told of rows as they are kept, `ROWS_READ_STEP` at a time and then the rest: rows [from, to) of `columns` (named
 * by the rules' targets; the arrays may be longer than `to`) are final. Called only by the one-pass reader.
 */
export type RowsRead = (columns: Record<string, Column>, from: number, to: number) => void;
export const ROWS_READ_STEP = 65_536;

export interface RawCsvCleaningResult extends CleaningResult {
  /** The file's column names, trimmed. */
  header: string[];
  /** Data rows read (blank lines not counted), kept and rejected. */
  rowCount: number;
}

type CellValue = string | number | boolean | null | Problem;

// Small integers rather than strings, so the per-cell switch stays cheap.
const Shape = { None: 0, Text: 1, UpperText: 2, Currency: 3, Scaled: 4, Instant: 5, Boolean: 6 } as const;
type Shape = (typeof Shape)[keyof typeof Shape];

/**
 * `cleanRaw` straight from CSV text, in one pass: each cell is read where it lies in the text and typed by its
 * rule's `fast` shape, so a million rows do not become ten million cell strings first (that, and collecting
 * them, was most of the time and memory of a large run). Cells the shape does not recognise (quoted, padded,
 * unusual, invalid) are cut out and given to the rule's `parse`, exactly as `cleanRaw` would; a rejected row's
 * original cells are read again from the text. Same answers as `cleanRaw(parseCsv(text))`, which the tests check.
 */
export function cleanRawCsv(
  dataset: string,
  text: string,
  rules: readonly FieldRule[],
  required: readonly string[],
  onRows?: RowsRead,
): RawCsvCleaningResult {
  const input = text;
  const length = input.length;
  let position = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  let header: string[] = [];
  if (position < length) {
    const first = readCsvRecord(input, position);
    header = first.cells.map((name) => name.trim());
    position = first.next;
  }
  for (const column of required) {
    if (!header.includes(column)) {
      throw new RawInputError(dataset, `required column "${column}" is missing (columns found: ${header.join(', ') || 'none'}).`);
    }
  }
  const sourceIndex = rules.map((rule) => header.indexOf(rule.source));
  const usedTwice = sourceIndex.some((column, f) => column >= 0 && sourceIndex.indexOf(column) !== f);
  if (usedTwice) {
    // Two rules on one column: rare enough to take the general road.
    const csv = parseCsv(text);
    return { ...cleanRaw(dataset, csv, rules, required), header: csv.header, rowCount: csv.rowCount };
  }

  const ruleCount = rules.length;
  const columnCount = header.length;
  const ruleAtColumn = new Int32Array(columnCount).fill(-1);
  sourceIndex.forEach((column, f) => {
    if (column >= 0) ruleAtColumn[column] = f;
  });
  const shapes = rules.map((rule) => shapeOf(rule));
  const scales = rules.map((rule) => (rule.fast?.shape === 'scaled' ? rule.fast.scale : 0));
  const nonNegative = rules.map((rule) => rule.fast?.shape === 'scaled' && rule.fast.nonNegative === true);
  const nullable = rules.map((rule) => rule.target.nullable);
  const maxChars = rules.map((rule) =>
    (rule.fast?.shape === 'text' || rule.fast?.shape === 'upper-text') && rule.fast.maxChars !== undefined ? rule.fast.maxChars : Infinity,
  );
  // An absent column, a short row and an empty cell all read as the empty text.
  const emptyValues: CellValue[] = rules.map((rule) => rule.parse('', rule.source));
  const interners = rules.map((rule) => (rule.target.kind === 'string' ? new RangeInterner() : undefined));

  let capacity = estimateRows(input, position);
  let out = rules.map((rule) => emptyColumn(rule.target, capacity));
  const rejects: RejectedRow[] = [];
  let kept = 0;
  let rowCount = 0;
  // Cells are typed straight into row `kept` of the output columns (no value boxed on the way); a rejected row
  // is simply overwritten by the next. Stamps say which rules got a cell, and which found a problem, in this row.
  let stamp = 0;
  const cellStamp = new Int32Array(ruleCount).fill(-1);
  const problemStamp = new Int32Array(ruleCount).fill(-1);
  const problems: string[] = new Array<string>(ruleCount).fill('');
  let rowHasProblem = false;

  const put = (f: number, value: CellValue): void => {
    const column = out[f];
    if (value === null) {
      if (!nullable[f]) {
        problems[f] = `missing ${rules[f].source}`;
        problemStamp[f] = stamp;
        rowHasProblem = true;
      } else if (column instanceof Float64Array) column[kept] = Number.NaN;
      else (column as unknown[])[kept] = null;
    } else if (typeof value === 'object') {
      problems[f] = value.problem;
      problemStamp[f] = stamp;
      rowHasProblem = true;
    } else if (column instanceof Float64Array) column[kept] = value as number;
    else (column as unknown[])[kept] = value;
  };
  const parseCell = (f: number, raw: string): CellValue => {
    const value = rules[f].parse(raw, rules[f].source);
    const interner = interners[f];
    return typeof value === 'string' && interner ? interner.intern(value, 0, value.length) : value;
  };
  const readCell = (f: number, start: number, end: number): void => {
    cellStamp[f] = stamp;
    if (start === end) return put(f, emptyValues[f]);
    switch (shapes[f]) {
      case Shape.Text:
        if (plainEdges(input, start, end) && end - start <= maxChars[f]) {
          (out[f] as unknown[])[kept] = (interners[f] as RangeInterner).intern(input, start, end);
          return;
        }
        break;
      case Shape.UpperText:
        if (plainEdges(input, start, end) && noLowerCase(input, start, end) && end - start <= maxChars[f]) {
          (out[f] as unknown[])[kept] = (interners[f] as RangeInterner).intern(input, start, end);
          return;
        }
        break;
      case Shape.Currency:
        if (end - start === 3 && upperLetter(input, start) && upperLetter(input, start + 1) && upperLetter(input, start + 2)) {
          (out[f] as unknown[])[kept] = (interners[f] as RangeInterner).intern(input, start, end);
          return;
        }
        break;
      case Shape.Scaled: {
        const value = fastScaled(input, scales[f], start, end);
        if (value !== undefined && !(nonNegative[f] && value < 0)) {
          (out[f] as Float64Array)[kept] = value;
          return;
        }
        break;
      }
      case Shape.Instant: {
        const value = fastInstant(input, start, end);
        if (value !== undefined) {
          (out[f] as Float64Array)[kept] = value;
          return;
        }
        break;
      }
      case Shape.Boolean:
        if (end - start === 4 && sameChars('true', input, start)) {
          (out[f] as unknown[])[kept] = true;
          return;
        }
        if (end - start === 5 && sameChars('false', input, start)) {
          (out[f] as unknown[])[kept] = false;
          return;
        }
        break;
    }
    put(f, parseCell(f, input.slice(start, end)));
  };

  while (position < length) {
    const lead = input.charCodeAt(position);
    if (lead === 10 || lead === 13) {
      // A blank line is not a row (parseCsv skips it too).
      position += lead === 13 && input.charCodeAt(position + 1) === 10 ? 2 : 1;
      continue;
    }
    if (kept === capacity) {
      capacity *= 2;
      out = out.map((column, f) => grow(column, rules[f], capacity));
    }
    const rowStart = position;
    rowCount += 1;
    stamp += 1;
    rowHasProblem = false;
    let column = 0;
    let emptyFirstCell = false;
    for (;;) {
      const f = column < columnCount ? ruleAtColumn[column] : -1;
      if (input.charCodeAt(position) === 34 /* " */) {
        const quoted = readQuotedCell(input, position);
        if (f >= 0) {
          cellStamp[f] = stamp;
          put(f, parseCell(f, quoted.value));
        }
        if (column === 0) emptyFirstCell = quoted.value === '';
        position = quoted.end;
      } else {
        const end = unquotedCellEnd(input, position);
        if (f >= 0) readCell(f, position, end);
        position = end;
      }
      const next = input.charCodeAt(position);
      if (next === 44) {
        position += 1;
        column += 1;
      } else if (next === 13 || next === 10) {
        position += next === 13 && input.charCodeAt(position + 1) === 10 ? 2 : 1;
        break;
      } else if (position >= length) {
        break;
      } else {
        throw new CsvFormatError(`Unexpected character after a quoted cell at character ${position}.`);
      }
    }
    if (column === 0 && emptyFirstCell) {
      // A lone empty quoted cell on a line: parseCsv does not count it as a row either.
      rowCount -= 1;
      continue;
    }
    // Rules whose column the file lacks, or the row is too short for, read the empty text.
    for (let f = 0; f < ruleCount; f += 1) if (cellStamp[f] !== stamp) put(f, emptyValues[f]);

    if (rowHasProblem) {
      const reasons: string[] = [];
      for (let f = 0; f < ruleCount; f += 1) if (problemStamp[f] === stamp) reasons.push(problems[f]);
      const cells = readCsvRecord(input, rowStart).cells;
      const row: Record<string, string> = {};
      header.forEach((name, c) => (row[name] = c < cells.length ? cells[c] : ''));
      rejects.push({ row, reason: [...new Set(reasons)].join('; ') });
      continue;
    }
    kept += 1;
    if (onRows && kept % ROWS_READ_STEP === 0) onRows(namedColumns(rules, out), kept - ROWS_READ_STEP, kept);
  }
  if (onRows && kept % ROWS_READ_STEP !== 0) onRows(namedColumns(rules, out), kept - (kept % ROWS_READ_STEP), kept);

  const columns: Record<string, Column> = {};
  rules.forEach((rule, f) => {
    const column = out[f];
    if (column instanceof Float64Array) {
      columns[rule.target.name] = kept === column.length ? column : column.slice(0, kept);
    } else {
      (column as unknown[]).length = kept;
      columns[rule.target.name] = column;
    }
  });
  return { table: { length: kept, columns }, rejects, header, rowCount };
}

function namedColumns(rules: readonly FieldRule[], out: readonly Column[]): Record<string, Column> {
  const columns: Record<string, Column> = {};
  rules.forEach((rule, f) => (columns[rule.target.name] = out[f]));
  return columns;
}

function shapeOf(rule: FieldRule): Shape {
  switch (rule.fast?.shape) {
    case 'text':
      return Shape.Text;
    case 'upper-text':
      return Shape.UpperText;
    case 'currency':
      return Shape.Currency;
    case 'scaled':
      return Shape.Scaled;
    case 'instant':
      return Shape.Instant;
    case 'boolean':
      return Shape.Boolean;
    default:
      return Shape.None;
  }
}

/** Rows to make room for: the rest of the text over the mean length of its first lines, with a margin. */
function estimateRows(input: string, from: number): number {
  let at = from;
  let lines = 0;
  while (lines < 1000) {
    const next = input.indexOf('\n', at);
    if (next < 0) break;
    at = next + 1;
    lines += 1;
  }
  if (lines < 1000) return lines + 1;
  return Math.ceil(((input.length - from) / (at - from)) * lines * 1.05) + 16;
}

function grow(column: Column, rule: FieldRule, capacity: number): Column {
  if (column instanceof Float64Array) {
    const bigger = emptyColumn(rule.target, capacity) as Float64Array;
    bigger.set(column);
    return bigger;
  }
  const bigger = column as unknown[];
  const from = bigger.length;
  bigger.length = capacity;
  bigger.fill(null, from);
  return bigger as Column;
}

/** Neither end of the cell is whitespace, nor anything outside printable ASCII that String.trim might remove. */
function plainEdges(input: string, start: number, end: number): boolean {
  const first = input.charCodeAt(start);
  const last = input.charCodeAt(end - 1);
  return first > 32 && first < 127 && last > 32 && last < 127;
}

function noLowerCase(input: string, start: number, end: number): boolean {
  for (let at = start; at < end; at += 1) {
    const code = input.charCodeAt(at);
    if ((code >= 97 && code <= 122) || code > 127) return false;
  }
  return true;
}

const upperLetter = (input: string, at: number): boolean => {
  const code = input.charCodeAt(at);
  return code >= 65 && code <= 90;
};

/** Distinct values a column shows before the interner judges whether its values repeat. */
const INTERN_PROBE = 4096;

/**
 * One shared string per distinct value of a column, looked up by the characters where they lie in the text, so
 * a repeated value (currency, type, merchant) costs no allocation at all. Gives up on high-cardinality columns
 * (ids) and then just cuts each value out: once `INTERN_PROBE` distinct values came with hardly any repeat among
 * them (more than three in four values new), or after `limit` distinct values.
 */
export class RangeInterner {
  private slots: (string | undefined)[] = new Array<string | undefined>(64).fill(undefined);
  private mask = 63;
  private size = 0;
  private seen = 0;
  private open = true;

  constructor(private readonly limit = 50_000) {}

  /** Whether values are still looked up (false once the column was judged high-cardinality). */
  get interning(): boolean {
    return this.open;
  }

  intern(text: string, start: number, end: number): string {
    if (!this.open) return text.slice(start, end);
    this.seen += 1;
    const length = end - start;
    let slot = hashRange(text, start, end) & this.mask;
    for (;;) {
      const found = this.slots[slot];
      if (found === undefined) break;
      if (found.length === length && sameChars(found, text, start)) return found;
      slot = (slot + 1) & this.mask;
    }
    if (this.size >= this.limit || (this.size >= INTERN_PROBE && this.size * 4 > this.seen * 3)) {
      this.open = false;
      this.slots = [];
      return text.slice(start, end);
    }
    // A flat copy, so the shared string does not pin the whole raw file in memory.
    const flat = (' ' + text.slice(start, end)).slice(1);
    this.slots[slot] = flat;
    this.size += 1;
    if (this.size * 2 > this.mask) this.rehash();
    return flat;
  }

  private rehash(): void {
    const old = this.slots;
    this.mask = this.mask * 2 + 1;
    this.slots = new Array<string | undefined>(this.mask + 1).fill(undefined);
    for (const value of old) {
      if (value === undefined) continue;
      let slot = hashRange(value, 0, value.length) & this.mask;
      while (this.slots[slot] !== undefined) slot = (slot + 1) & this.mask;
      this.slots[slot] = value;
    }
  }
}

/** `text.startsWith(value, start)`, which as a builtin call cost more than the comparison itself. */
function sameChars(value: string, text: string, start: number): boolean {
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

function hashRange(text: string, start: number, end: number): number {
  let hash = end - start;
  for (let at = start; at < end; at += 1) hash = (Math.imul(hash, 31) + text.charCodeAt(at)) | 0;
  return hash;
}
