import { TransformError } from '../transform-errors';
/** Columns of a parsed CSV: the header, then one array of raw cell texts per column. */
export interface CsvColumns {
  header: string[];
  columns: string[][];
  rowCount: number;
}

/**
 * RFC 4180 CSV to columns, in one pass over the text. Quoted cells may hold commas, quotes ("") and newlines;
 * CRLF and LF both end rows; a final newline is optional. Rows with too few cells get empty strings, so a
 * short row is reported by validation as missing values rather than lost here.
 */
export function parseCsv(text: string): CsvColumns {
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let header: string[] | undefined;
  let columns: string[][] = [];
  let rowCount = 0;
  for (let position = 0; position < input.length;) {
    const { cells, next } = readCsvRecord(input, position);
    position = next;
    if (!header) {
      header = cells.map((name) => name.trim());
      columns = header.map(() => []);
    } else if (!(cells.length === 1 && cells[0] === '')) {
      for (let c = 0; c < columns.length; c += 1) columns[c].push(c < cells.length ? cells[c] : '');
      rowCount += 1;
    }
  }
  return { header: header ?? [], columns, rowCount };
}

/** Where the unquoted cell starting at `start` ends: at the next comma, line break or the end of the text. */
export function unquotedCellEnd(input: string, start: number): number {
  let end = start;
  while (end < input.length) {
    const code = input.charCodeAt(end);
    if (code === 44 || code === 10 || code === 13) break;
    end += 1;
  }
  return end;
}

/**
 * One record starting at `start`: its cells (quotes removed) and where the next record starts. The general,
 * allocation-happy reader, for headers and for the original cells of a rejected row.
 */
export function readCsvRecord(input: string, start: number): { cells: string[]; next: number } {
  const length = input.length;
  const cells: string[] = [];
  let position = start;
  for (;;) {
    if (input.charCodeAt(position) === 34 /* " */) {
      const quoted = readQuotedCell(input, position);
      cells.push(quoted.value);
      position = quoted.end;
    } else {
      const end = unquotedCellEnd(input, position);
      cells.push(input.slice(position, end));
      position = end;
    }
    const next = input.charCodeAt(position);
    if (next === 44) {
      position += 1;
    } else if (next === 13 || next === 10) {
      return { cells, next: position + (next === 13 && input.charCodeAt(position + 1) === 10 ? 2 : 1) };
    } else if (position >= length) {
      return { cells, next: length };
    } else {
      throw new CsvFormatError(`Unexpected character after a quoted cell at character ${position}.`);
    }
  }
}

/** The quoted cell whose opening quote is at `start`: its value ("" read as ") and the position after its closing quote. */
export function readQuotedCell(input: string, start: number): { value: string; end: number } {
  let from = start + 1;
  let value = '';
  for (;;) {
    const quote = input.indexOf('"', from);
    if (quote < 0) throw new CsvFormatError(`Unterminated quoted cell starting at character ${start}.`);
    if (input.charCodeAt(quote + 1) === 34) {
      value += input.slice(from, quote + 1);
      from = quote + 2;
    } else {
      return { value: value + input.slice(from, quote), end: quote + 1 };
    }
  }
}

/** Text that is not CSV (an unterminated quote, a row longer than its header). */
export class CsvFormatError extends TransformError {
  constructor(message: string) {
    super('CSV_FORMAT', message);
  }
}

/** One CSV cell: quoted when it holds a comma, quote, newline or edge whitespace. Null is an empty cell. */
export function csvCell(value: string | number | boolean | null | undefined | object): string {
  if (value === null || value === undefined) return '';
  // A nested value (only in a row that broke the API's document) keeps its content, for the quarantine to show.
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of objects to CSV with the given columns, in that order (missing fields are empty cells). */
export function formatCsv(columns: readonly string[], rows: Iterable<Record<string, unknown>>): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) {
    lines.push(columns.map((column) => csvCell(row[column] as string | number | boolean | null | undefined)).join(','));
  }
  return `${lines.join('\n')}\n`;
}
