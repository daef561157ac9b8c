/**
 * Parsers for one raw cell each. They return a value or a `Problem` (the reason a row is rejected), never
 * throw, and never guess: money is parsed from its text exactly, never through a float.
 */
export interface Problem {
  problem: string;
}

export const isProblem = (value: unknown): value is Problem =>
  typeof value === 'object' && value !== null && 'problem' in value;

/** Trimmed text, or null for an empty cell. */
export function text(raw: string): string | null {
  const trimmed = raw.trim();
  return trimmed === '' ? null : trimmed;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const CURRENCY = /^[A-Z]{3}$/;

export function integer(raw: string, name: string): number | null | Problem {
  const value = text(raw);
  if (value === null) return null;
  if (!INTEGER.test(value)) return { problem: `${name} not an integer` };
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : { problem: `${name} out of range` };
}

/**
 * A decimal as an integer count of 10^-scale units ("0.27" at scale 6 is 270000), exact for any text
 * with at most `scale` decimals. More decimals than the scale holds is a problem, not a silent rounding.
 */
export function scaledDecimal(raw: string, scale: number, name: string): number | null | Problem {
  const value = text(raw);
  if (value === null) return null;
  const match = DECIMAL.exec(value);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return { problem: `${name} not a number` };
  const fraction = match[3] ?? '';
  if (fraction.replace(/0+$/, '').length > scale) return { problem: `${name} has more than ${scale} decimals` };
  const digits = `${match[2] || '0'}${fraction.padEnd(scale, '0').slice(0, scale)}`;
  const units = Number(digits);
  if (!Number.isSafeInteger(units)) return { problem: `${name} out of range` };
  return match[1] === '-' ? -units : units;
}

export function boolean(raw: string, name: string): boolean | null | Problem {
  const value = text(raw)?.toLowerCase() ?? null;
  if (value === null) return null;
  if (value === 'true' || value === 't' || value === '1') return true;
  if (value === 'false' || value === 'f' || value === '0') return false;
  return { problem: `${name} not a boolean` };
}

/** An ISO-8601 instant with an explicit offset (or Z), as milliseconds since the epoch (UTC). */
export function instant(raw: string, name: string): number | null | Problem {
  const value = text(raw);
  if (value === null) return null;
  const match = ISO_INSTANT.exec(value);
  if (!match) {
    return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)
      ? { problem: `${name} has no UTC offset` }
      : { problem: `unparseable ${name}` };
  }
  const [, y, mo, d, h, mi] = match;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) {
    return { problem: `unparseable ${name}` };
  }
  const ms = Date.parse(value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms) || new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() !== Number(d)) {
    return { problem: `unparseable ${name}` };
  }
  return ms;
}

export function currency(raw: string, name: string): string | null | Problem {
  const value = text(raw)?.toUpperCase() ?? null;
  if (value === null) return null;
  return CURRENCY.test(value) ? value : { problem: `${name} not a currency code` };
}
