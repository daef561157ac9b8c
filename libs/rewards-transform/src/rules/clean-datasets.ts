import { SchemaInvariantError } from '../transform-errors';
import type { CsvColumns } from '../engine/csv';
import {
  MONEY_SCALE,
  PLU_SCALE,
  RATE_SCALE,
  REQUIRED_REWARD_COLUMNS,
  REQUIRED_TRANSACTION_COLUMNS,
  REWARDS_SCHEMA,
  TRANSACTIONS_SCHEMA,
} from './curated-schemas';
import { merchantCategory } from './merchant-category';
import { cleanRaw, limitTextBytes, type CellParser, type CleaningOptions, type FastShape, type FieldRule } from './raw-cleaning';
import { cleanRawCsv, type RawCsvCleaningResult } from '../engine/raw-csv-reader';
import { sliceRows, type Column, type ColumnSpec, type Table } from '../engine/table';
import { boolean, currency, instant, integer, scaledDecimal, text } from './values';

const spec = (schema: readonly ColumnSpec[], name: string): ColumnSpec => {
  const found = schema.find((column) => column.name === name);
  if (!found) throw new SchemaInvariantError(`No column ${name} in the curated schema.`);
  return found;
};
const rule = (schema: readonly ColumnSpec[], source: string, target: string, parse: CellParser, fast?: FastShape): FieldRule => ({
  source,
  target: spec(schema, target),
  parse,
  fast,
});
const TEXT: FastShape = { shape: 'text' };
const UPPER_TEXT: FastShape = { shape: 'upper-text' };
const CURRENCY: FastShape = { shape: 'currency' };
const INSTANT: FastShape = { shape: 'instant' };
const upperText: CellParser = (raw) => text(raw)?.toUpperCase() ?? null;
const plainText: CellParser = (raw) => text(raw);
const nonNegative =
  (scale: number): CellParser =>
  (raw, name) => {
    const value = scaledDecimal(raw, scale, name);
    return typeof value === 'number' && value < 0 ? { problem: `${name} is negative` } : value;
  };

// Each rule's `fast` shape reads the common cell straight from the CSV text; `parse` has the last word.
export const TRANSACTION_RULES: readonly FieldRule[] = [
  rule(TRANSACTIONS_SCHEMA, 'id', 'transaction_id', plainText, TEXT),
  rule(TRANSACTIONS_SCHEMA, 'model', 'model', plainText, TEXT),
  rule(TRANSACTIONS_SCHEMA, 'user_id', 'user_id', plainText, TEXT),
  rule(TRANSACTIONS_SCHEMA, 'currency', 'currency', currency, CURRENCY),
  rule(TRANSACTIONS_SCHEMA, 'amount', 'amount_minor', integer, { shape: 'scaled', scale: 0 }),
  rule(TRANSACTIONS_SCHEMA, 'date', 'transaction_date', instant, INSTANT),
  rule(TRANSACTIONS_SCHEMA, 'type', 'transaction_type', upperText, UPPER_TEXT),
  rule(TRANSACTIONS_SCHEMA, 'is_debit', 'is_debit', boolean, { shape: 'boolean' }),
  rule(TRANSACTIONS_SCHEMA, 'description', 'description', plainText, TEXT),
];

export const REWARD_RULES: readonly FieldRule[] = [
  rule(REWARDS_SCHEMA, 'id', 'reward_id', plainText, TEXT),
  rule(REWARDS_SCHEMA, 'amount', 'plu_amount', nonNegative(PLU_SCALE), { shape: 'scaled', scale: PLU_SCALE, nonNegative: true }),
  // A ledger entry without `available` has not been released.
  rule(REWARDS_SCHEMA, 'available', 'is_available', (raw, name) => boolean(raw, name) ?? false, { shape: 'boolean' }),
  rule(REWARDS_SCHEMA, 'reason', 'reason', plainText, TEXT),
  rule(REWARDS_SCHEMA, 'createdAt', 'created_at', instant, INSTANT),
  // Nullable here; filled from created_at below.
  { source: 'updatedAt', target: { ...spec(REWARDS_SCHEMA, 'updated_at'), nullable: true }, parse: instant, fast: INSTANT },
  rule(REWARDS_SCHEMA, 'rebate_rate', 'rebate_rate', nonNegative(RATE_SCALE), { shape: 'scaled', scale: RATE_SCALE, nonNegative: true }),
  rule(REWARDS_SCHEMA, 'fiat_amount_rewarded', 'fiat_amount_rewarded', (raw, name) => scaledDecimal(raw, MONEY_SCALE, name), {
    shape: 'scaled',
    scale: MONEY_SCALE,
  }),
  rule(REWARDS_SCHEMA, 'currency', 'currency', currency, CURRENCY),
  rule(REWARDS_SCHEMA, 'reference_type', 'reference_type', plainText, TEXT),
  rule(REWARDS_SCHEMA, 'reference_id', 'reference_id', plainText, TEXT),
  rule(REWARDS_SCHEMA, 'type', 'reward_type', upperText, UPPER_TEXT),
];

/** Raw cells to typed columns: read straight from CSV text, or from columns already split (a DataFrame's, say). */
function cleanRawInput(
  dataset: string,
  input: string | CsvColumns,
  rules: readonly FieldRule[],
  required: readonly string[],
  onRows?: (columns: Record<string, Column>, from: number, to: number) => void,
): RawCsvCleaningResult {
  if (typeof input === 'string') return cleanRawCsv(dataset, input, rules, required, onRows);
  return { ...cleanRaw(dataset, input, rules, required), header: input.header, rowCount: input.rowCount };
}

/**
 * Raw transactions (CSV text or split columns) to the typed `transactions` table (+ rejects), with derived columns.
 * `onRows`, for CSV text, is handed the table's rows as they are read, in order, a few tens of thousands at a
 * time (their derived columns too): the caller may write them out before the whole text is read. Rows it was not
 * handed (none when the text was read in one pass) are the table's rows after the last it was.
 */
export function cleanTransactions(
  input: string | CsvColumns,
  options: CleaningOptions = {},
  onRows?: (rows: Table) => void,
): RawCsvCleaningResult {
  const rules = limitTextBytes(TRANSACTION_RULES, options.maxTextBytes);
  const categories = new Map<string | null, string>();
  const categoryOf = (text: string | null) => {
    let found = categories.get(text);
    if (found === undefined) categories.set(text, (found = merchantCategory(text)));
    return found;
  };
  const derived = (table: Table): Table => {
    const amountMinor = table.columns['amount_minor'] as Float64Array;
    const description = table.columns['description'] as (string | null)[];
    // transaction_amount is abs(amount) / 100: the same integer at scale 2, so exact.
    return ordered(TRANSACTIONS_SCHEMA, table, {
      transaction_amount: amountMinor.map(Math.abs),
      merchant_category: description.map(categoryOf),
    });
  };
  const rowsRead =
    onRows &&
    ((columns: Record<string, Column>, from: number, to: number) => onRows(derived(sliceRows({ length: to, columns }, from, to))));
  const { table, rejects, header, rowCount } = cleanRawInput('transactions', input, rules, REQUIRED_TRANSACTION_COLUMNS, rowsRead);
  return { table: derived(table), rejects, header, rowCount };
}

/** Raw rewards (CSV text or split columns) to the typed `rewards` table (+ rejects). */
export function cleanRewards(input: string | CsvColumns, options: CleaningOptions = {}): RawCsvCleaningResult {
  const rules = limitTextBytes(REWARD_RULES, options.maxTextBytes);
  const { table, rejects, header, rowCount } = cleanRawInput('rewards', input, rules, REQUIRED_REWARD_COLUMNS);
  const created = table.columns['created_at'] as Float64Array;
  const updated = table.columns['updated_at'] as Float64Array;
  for (let i = 0; i < table.length; i += 1) if (Number.isNaN(updated[i])) updated[i] = created[i];
  return { table: ordered(REWARDS_SCHEMA, table, {}), rejects, header, rowCount };
}

function ordered(schema: readonly ColumnSpec[], table: Table, extra: Record<string, Column>): Table {
  const columns: Record<string, Column> = {};
  for (const column of schema) {
    const values = extra[column.name] ?? table.columns[column.name];
    if (!values) throw new SchemaInvariantError(`Column ${column.name} was not produced.`);
    columns[column.name] = values;
  }
  return { length: table.length, columns };
}
