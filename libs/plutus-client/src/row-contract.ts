import { plutusSchemaDocument } from './generated/plutus-schemas';
import { findSchemaMismatch, type PlutusSchemaName } from './response-validation';

/** A row that breaks the OpenAPI document, handed over as it came, with where and why. */
export interface InvalidRow {
  /** JSON pointer into the response, e.g. `/data/transactions_view/3/amount`. */
  path: string;
  problem: string;
  row: unknown;
}

/** Rows checked one by one: the valid ones, the invalid ones with their reason, and fields the document does not know. */
export interface CheckedRows<T> {
  rows: T[];
  invalid: InvalidRow[];
  /** Per field name the document does not know, how many rows carried it: the API moved. */
  unknownFields: Record<string, number>;
}

const knownFields = new Map<string, Set<string>>();

function fieldsOf(schema: PlutusSchemaName): Set<string> {
  let known = knownFields.get(schema);
  if (!known) {
    const properties = (plutusSchemaDocument.components.schemas[schema] as { properties?: Record<string, unknown> }).properties ?? {};
    known = new Set([...Object.keys(properties), '__typename']);
    knownFields.set(schema, known);
  }
  return known;
}

/** Fields the document does not know, counted over rows already checked as a whole. */
export function countUnknownFields(schema: PlutusSchemaName, values: readonly unknown[]): Record<string, number> {
  const known = fieldsOf(schema);
  const counts: Record<string, number> = {};
  for (const value of values) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const field of Object.keys(value)) if (!known.has(field)) counts[field] = (counts[field] ?? 0) + 1;
  }
  return counts;
}

/**
 * Checks each row against `schema`. `firstIndex` and `pointer` place a row in the response for the error path.
 * A row that is not even an object is invalid too: only the response's overall shape is checked elsewhere.
 */
export function checkRows<T>(schema: PlutusSchemaName, values: readonly unknown[], pointer: string, firstIndex = 0): CheckedRows<T> {
  const checked: CheckedRows<T> = { rows: [], invalid: [], unknownFields: countUnknownFields(schema, values) };
  // The common case, every row valid, costs one validation of the whole array; rows are looked at one by
  // one only when some row is off.
  if (findSchemaMismatch(schema, values, { arrayOf: true }) === undefined) {
    checked.rows = values as T[];
    return checked;
  }
  values.forEach((value, offset) => {
    const mismatch = findSchemaMismatch(schema, value);
    if (mismatch)
      checked.invalid.push({ path: `${pointer}/${firstIndex + offset}${mismatch.path}`, problem: mismatch.problem, row: value });
    else checked.rows.push(value as T);
  });
  return checked;
}
