/**
 * Parsers for one raw cell each. They return a value or a `Problem` (the reason a row is rejected), never
 * throw, and never guess: money is parsed from its text exactly, never through a float.
 */
export interface Problem {
  problem: string;
}

export const isProblem = (value: unknown): value is Problem => typeof value === 'object' && value !== null && 'problem' in value;

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
  const fast = fastScaled(raw, 0);
  if (fast !== undefined) return fast;
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
  const fast = fastScaled(raw, scale);
  if (fast !== undefined) return fast;
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
  const fast = fastInstant(raw);
  if (fast !== undefined) return fast;
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

const digit = (text: string, at: number): number => {
  const code = text.charCodeAt(at) - 48;
  return code >= 0 && code <= 9 ? code : -1000;
};

/**
 * The common shapes, `2024-03-31T02:30:00Z`, `...:00.123Z`, `...:00+01:00`, read from character codes of
 * `text[start, end)` without a regular expression, a substring or a Date object: a million timestamps per column
 * made the general path a hot spot. Anything else (spaces, other shapes, invalid values) answers undefined and
 * takes the general path, which explains.
 */
export function fastInstant(text: string, start = 0, end = text.length): number | undefined {
  if (end - start < 20) return undefined;
  if (
    text.charCodeAt(start + 4) !== 45 ||
    text.charCodeAt(start + 7) !== 45 ||
    text.charCodeAt(start + 10) !== 84 ||
    text.charCodeAt(start + 13) !== 58 ||
    text.charCodeAt(start + 16) !== 58
  ) {
    return undefined;
  }
  const year = digit(text, start) * 1000 + digit(text, start + 1) * 100 + digit(text, start + 2) * 10 + digit(text, start + 3);
  const month = digit(text, start + 5) * 10 + digit(text, start + 6);
  const day = digit(text, start + 8) * 10 + digit(text, start + 9);
  const hour = digit(text, start + 11) * 10 + digit(text, start + 12);
  const minute = digit(text, start + 14) * 10 + digit(text, start + 15);
  const second = digit(text, start + 17) * 10 + digit(text, start + 18);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  )
    return undefined;
  let at = start + 19;
  let millis = 0;
  if (text.charCodeAt(at) === 46) {
    at += 1;
    let scale = 100;
    while (at < end) {
      const d = digit(text, at);
      if (d < 0) break;
      millis += d * scale;
      scale /= 10;
      at += 1;
    }
    millis = Math.floor(millis);
  }
  let offsetMinutes = 0;
  const sign = text.charCodeAt(at);
  if (sign === 90 && at === end - 1) {
    offsetMinutes = 0;
  } else if ((sign === 43 || sign === 45) && at + 6 === end && text.charCodeAt(at + 3) === 58) {
    const hours = digit(text, at + 1) * 10 + digit(text, at + 2);
    const minutes = digit(text, at + 4) * 10 + digit(text, at + 5);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return undefined;
    offsetMinutes = (sign === 43 ? 1 : -1) * (hours * 60 + minutes);
  } else {
    return undefined;
  }
  const ms = utcMillis(year, month, day, hour, minute, second, millis);
  return ms === undefined ? undefined : ms - offsetMinutes * 60_000;
}

/**
 * Date.UTC without the Date: days from the civil date (Howard Hinnant's algorithm). Answers undefined for a day
 * the month does not have (2024-02-30), which the general path then rejects.
 */
function utcMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number | undefined {
  if (day > 28) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const monthDays = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
    if (day > monthDays) return undefined;
  }
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
}

/**
 * The common shape of a number cell, `-?digits(.digits)?` with no spaces, in `text[start, end)`, as a count of
 * 10^-scale units, read from character codes (no regex, no substrings). Anything else, or more decimals than
 * `scale` allows, or more than 15 significant digits, answers undefined and takes the general path, which explains.
 */
export function fastScaled(text: string, scale: number, start = 0, end = text.length): number | undefined {
  if (end === start || end - start > 17) return undefined;
  let at = start;
  let negative = false;
  if (text.charCodeAt(at) === 45) {
    negative = true;
    at += 1;
  }
  let units = 0;
  let digits = 0;
  let decimals = -1;
  for (; at < end; at += 1) {
    const code = text.charCodeAt(at);
    if (code === 46) {
      if (decimals >= 0 || digits === 0) return undefined;
      decimals = 0;
      continue;
    }
    const d = code - 48;
    if (d < 0 || d > 9) return undefined;
    units = units * 10 + d;
    digits += 1;
    if (decimals >= 0) decimals += 1;
  }
  if (digits === 0 || decimals === 0 || digits > 15) return undefined;
  const places = decimals < 0 ? 0 : decimals;
  if (places > scale) return undefined;
  const scaled = units * POWERS_OF_TEN[scale - places];
  if (!Number.isSafeInteger(scaled)) return undefined;
  return negative ? -scaled : scaled;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);
