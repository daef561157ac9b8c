import { readFileSync } from 'node:fs';
import { parse as csvParse } from 'csv-parse/sync';
import { join } from 'node:path';
import { REWARD_RULES, TRANSACTION_RULES } from '../rules/clean-datasets';
import { CsvFormatError, csvCell, parseCsv } from './csv';
import { REQUIRED_REWARD_COLUMNS, REQUIRED_TRANSACTION_COLUMNS } from '../rules/curated-schemas';
import { cleanRaw, type FieldRule } from '../rules/raw-cleaning';
import { cleanRawCsv, RangeInterner } from './raw-csv-reader';
import { tableRows } from './table';
import { RawInputError } from '../transform-errors';

const fixture = (name: string) => readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', name), 'utf8');

/** The one-pass reader must give exactly what the general road (split every cell, then parse it) gives. */
function expectSameAsGeneralRoad(text: string, rules: readonly FieldRule[], required: readonly string[]) {
  const general = cleanRaw('dataset', parseCsv(text), rules, required);
  const fast = cleanRawCsv('dataset', text, rules, required);
  expect(tableRows(fast.table)).toEqual(tableRows(general.table));
  expect(fast.table.length).toBe(general.table.length);
  expect(fast.rejects).toEqual(general.rejects);
  const csv = parseCsv(text);
  expect({ header: fast.header, rowCount: fast.rowCount }).toEqual({ header: csv.header, rowCount: csv.rowCount });
  return fast;
}

// Cell variants per raw column: well-formed ones the fast shapes read, and every kind they must hand over.
const VARIANTS: Record<string, string[]> = {
  id: ['t-1', 't-2', 'r-9', '', ' t-3 ', '"t,4"', '\u00a0t-5', 'tx-' + 'x'.repeat(20)],
  model: ['card_transaction', '', ' card_transaction'],
  user_id: ['u1', 'u2', ''],
  currency: ['GBP', 'EUR', 'eur', ' GBP', 'POUNDS', '', 'G1P', '"USD"'],
  amount: [
    '-1250',
    '1250',
    '0',
    '-0',
    '007',
    '+12',
    '1.0',
    '12.5',
    '0.00000001',
    '0.000000001',
    '1e3',
    '',
    ' 5 ',
    '.5',
    '5.',
    '-',
    '99999999999999999999',
    '1234567890123456',
    '"-3"',
  ],
  date: [
    '2024-03-31T02:30:00+01:00',
    '2024-03-30T23:30:00Z',
    '2024-04-03T19:00:00.123Z',
    '2024-04-03T19:00:00.1234+0000',
    '2024-02-30T00:00:00Z',
    '2024-02-29T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2024-04-01T00:00:00',
    'yesterday',
    '',
    '2024-04-01 10:00:00Z',
    ' 2024-04-01T10:00:00Z ',
    '1969-12-31T23:59:59.999Z',
    '2400-02-29T00:00:00-05:30',
  ],
  type: ['PURCHASE', 'refund', 'Top_Up', '', ' REFUND ', 'ÜBER'],
  is_debit: ['true', 'false', 'TRUE', ' false ', '1', '0', 'yes', ''],
  description: [
    'TESCO STORES 3291 LONDON GB',
    'CAFFÈ NERO 0412',
    '"  CAFFÈ NERO 0412  "',
    '"AMAZON, INC"',
    '"say ""hi"""',
    '',
    '"multi\nline"',
    'ZAŻÓŁĆ',
    '\u2028X',
  ],
  available: ['true', 'false', '', ' true', 'f', 'maybe'],
  reason: ['', 'Rejected by admin', 'rejected', '"Rejected, twice"'],
  createdAt: ['2024-03-31T12:00:00Z', '2024-10-27T01:30:00+02:00', '', 'not a date', '2024-13-01T00:00:00Z'],
  updatedAt: ['2024-05-15T12:00:00Z', '', '2024-05-15T12:00:00.5-01:00', '2024-05-15T24:00:00Z'],
  rebate_rate: ['0.03', '0', '-0.01', '', '0.123456789', '0.12345678'],
  fiat_amount_rewarded: ['0.375', '10.00', '-1.5', '', '1.1234567', ' 0.27 '],
  reference_type: ['card_transaction', ''],
  reference_id: ['t-1', 't-2', 'missing-1', ''],
};

function randomCsv(columns: readonly string[], rows: number, seed: number, lineBreak: string): string {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const lines = [columns.join(',')];
  for (let r = 0; r < rows; r += 1) {
    let cells = columns.map((column) => pick(VARIANTS[column] ?? ['']));
    const shape = random();
    if (shape < 0.03)
      cells = cells.slice(0, 1 + Math.floor(random() * (cells.length - 1))); // short row
    else if (shape < 0.05) cells = [...cells, 'extra']; // a cell too many
    lines.push(cells.join(','));
    if (random() < 0.02) lines.push(''); // blank line
  }
  return lines.join(lineBreak) + (random() < 0.5 ? lineBreak : '');
}

/**
 * The oracle: a maintained CSV parser (csv-parse) reads the text, and its records become columns with the
 * rules this library documents (BOM dropped, header trimmed, blank lines skipped, short rows padded with empty
 * cells, cells beyond the header ignored).
 */
function csvParseColumns(text: string): { header: string[]; columns: string[][]; rowCount: number } {
  const records = csvParse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  const header = (records[0] ?? []).map((name) => name.trim());
  const rows = records.slice(1);
  return { header, columns: header.map((_, c) => rows.map((row) => row[c] ?? '')), rowCount: rows.length };
}

describe('against csv-parse, a maintained CSV parser, as the oracle', () => {
  it.each([
    [
      'transactions',
      ['id', 'model', 'user_id', 'currency', 'amount', 'date', 'type', 'is_debit', 'description'],
      TRANSACTION_RULES,
      REQUIRED_TRANSACTION_COLUMNS,
    ],
    [
      'rewards',
      [
        'id',
        'amount',
        'available',
        'reason',
        'createdAt',
        'updatedAt',
        'rebate_rate',
        'fiat_amount_rewarded',
        'currency',
        'reference_type',
        'reference_id',
        'type',
      ],
      REWARD_RULES,
      REQUIRED_REWARD_COLUMNS,
    ],
  ] as const)(
    'splits and cleans 3,000 random %s rows of awkward cells exactly as csv-parse + the rules do',
    (_, columns, rules, required) => {
      for (const [seed, lineBreak] of [
        [11, '\n'],
        [12, '\r\n'],
        [13, '\r'],
      ] as const) {
        const text = `\ufeff${randomCsv(columns, 1000, seed, lineBreak)}`;
        const oracle = csvParseColumns(text);
        expect(parseCsv(text)).toEqual(oracle);
        const fast = cleanRawCsv('dataset', text, rules, required);
        const expected = cleanRaw('dataset', oracle, rules, required);
        expect(tableRows(fast.table)).toEqual(tableRows(expected.table));
        expect(fast.rejects).toEqual(expected.rejects);
        expect(fast.rejects.length).toBeGreaterThan(50);
      }
    },
  );

  it('refuses what csv-parse refuses: an unterminated quote', () => {
    const text = 'id,amount,date,currency\nt1,"12,2024-01-01T00:00:00Z,GBP\n';
    expect(() => csvParseColumns(text)).toThrow();
    expect(() => cleanRawCsv('dataset', text, TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS)).toThrow(CsvFormatError);
  });
});

describe('cleanRawCsv (CSV text straight to typed columns)', () => {
  it('gives the same tables and rejects as parseCsv + cleanRaw on the fixtures', () => {
    expectSameAsGeneralRoad(fixture('transactions.csv'), TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS);
    const rewards = expectSameAsGeneralRoad(fixture('rewards.csv'), REWARD_RULES, REQUIRED_REWARD_COLUMNS);
    expect(rewards.rejects.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'transactions',
      ['id', 'model', 'user_id', 'currency', 'amount', 'date', 'type', 'is_debit', 'description'],
      TRANSACTION_RULES,
      REQUIRED_TRANSACTION_COLUMNS,
    ],
    [
      'rewards',
      [
        'id',
        'amount',
        'available',
        'reason',
        'createdAt',
        'updatedAt',
        'rebate_rate',
        'fiat_amount_rewarded',
        'currency',
        'reference_type',
        'reference_id',
        'type',
      ],
      REWARD_RULES,
      REQUIRED_REWARD_COLUMNS,
    ],
  ] as const)('agrees with the general road on 3,000 random %s rows of awkward cells', (_, columns, rules, required) => {
    for (const [seed, lineBreak] of [
      [1, '\n'],
      [2, '\r\n'],
      [3, '\r'],
    ] as const) {
      const result = expectSameAsGeneralRoad(randomCsv(columns, 1000, seed, lineBreak), rules, required);
      // The mix must exercise both roads: rows kept and rows rejected.
      expect(result.table.length).toBeGreaterThan(20);
      expect(result.rejects.length).toBeGreaterThan(50);
    }
  });

  it('reads columns in any order, extra columns, a BOM and a missing optional column', () => {
    const text = '\ufeffnote,amount,date,currency,id\n"a,b",-100,2024-01-01T00:00:00Z,GBP,t-1\nx,-200,2024-01-02T00:00:00Z,EUR,t-2\n';
    const result = expectSameAsGeneralRoad(text, TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS);
    expect(tableRows(result.table).map((row) => [row['transaction_id'], row['amount_minor'], row['description']])).toEqual([
      ['t-1', -100, null],
      ['t-2', -200, null],
    ]);
  });

  it('refuses a file without a required column, naming it, and malformed quoting', () => {
    expect(() => cleanRawCsv('transactions', 'id,currency,date\n', TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS)).toThrow(RawInputError);
    expect(() => cleanRawCsv('transactions', 'id,currency,date\n', TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS)).toThrow(
      'required column "amount" is missing',
    );
    expect(() => cleanRawCsv('t', 'id,amount,date,currency\n"t-1"x,1,2024-01-01T00:00:00Z,GBP\n', TRANSACTION_RULES, [])).toThrow(
      CsvFormatError,
    );
    expect(() => cleanRawCsv('t', 'id,amount,date,currency\n"t-1,1,2024-01-01T00:00:00Z,GBP\n', TRANSACTION_RULES, [])).toThrow(
      'Unterminated quoted cell',
    );
  });

  it('takes the general road, with the same answers, when two rules read one column', () => {
    const spec = (name: string) => ({ name, kind: 'string' as const, nullable: false, description: '' });
    const rules: FieldRule[] = [
      { source: 'type', target: spec('type_as_given'), parse: (raw) => raw.trim() || null, fast: { shape: 'text' } },
      { source: 'type', target: spec('type_upper'), parse: (raw) => raw.trim().toUpperCase() || null, fast: { shape: 'upper-text' } },
    ];
    const result = expectSameAsGeneralRoad('type\nrefund\n PURCHASE\n\n""\n', rules, ['type']);
    expect(tableRows(result.table)).toEqual([
      { type_as_given: 'refund', type_upper: 'REFUND' },
      { type_as_given: 'PURCHASE', type_upper: 'PURCHASE' },
    ]);
  });

  it('handles an empty file and a header-only file', () => {
    expect(cleanRawCsv('t', 'id,amount,date,currency\n', TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS).table.length).toBe(0);
    expect(cleanRawCsv('t', '', TRANSACTION_RULES, []).rowCount).toBe(0);
  });

  it('keeps its figures when cells are quoted by a CSV writer', () => {
    const rows = [{ id: 't-1', currency: 'GBP', amount: '-1250', date: '2024-03-30T23:30:00Z', description: ' padded, with comma ' }];
    const text = ['id,currency,amount,date,description', ...rows.map((row) => Object.values(row).map(csvCell).join(','))].join('\n');
    const result = expectSameAsGeneralRoad(text, TRANSACTION_RULES, REQUIRED_TRANSACTION_COLUMNS);
    expect(tableRows(result.table)[0]['description']).toBe('padded, with comma');
  });
});

describe('RangeInterner', () => {
  it('answers one shared string per distinct value, then gives up on high cardinality', () => {
    const interner = new RangeInterner(3);
    const text = 'GBP,EUR,GBP,USD,JPY,GBP';
    const first = interner.intern(text, 0, 3);
    expect(first).toBe('GBP');
    expect(interner.intern(text, 8, 11)).toBe(first);
    expect(interner.intern(text, 4, 7)).toBe('EUR');
    expect(interner.intern(text, 12, 15)).toBe('USD');
    // A fourth distinct value is over the limit: the value is still right.
    expect(interner.intern(text, 16, 19)).toBe('JPY');
    expect(interner.intern(text, 20, 23)).toBe('GBP');
  });

  it('stops looking values up in a column whose first 4,096 distinct values hardly repeat (ids), and keeps on where they do', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `id-${i}`);
    const idText = ids.join('|');
    const idInterner = new RangeInterner();
    let at = 0;
    const read = ids.map((id) => {
      const value = idInterner.intern(idText, at, at + id.length);
      at += id.length + 1;
      return value;
    });
    expect(read).toEqual(ids);
    expect(idInterner.interning).toBe(false);
    // 6,000 distinct merchants, each seen twice in a row: half the values repeat, so the column stays interned.
    const merchants = Array.from({ length: 12_000 }, (_, i) => `merchant ${i >> 1}`);
    const merchantText = merchants.join('|');
    const merchantInterner = new RangeInterner();
    at = 0;
    for (const merchant of merchants) {
      expect(merchantInterner.intern(merchantText, at, at + merchant.length)).toBe(merchant);
      at += merchant.length + 1;
    }
    expect(merchantInterner.interning).toBe(true);
  });

  it('keeps every value through its table growing', () => {
    const interner = new RangeInterner();
    const values = Array.from({ length: 500 }, (_, i) => `merchant ${i}`);
    const text = values.join('|');
    let at = 0;
    const shared = values.map((value) => {
      const found = interner.intern(text, at, at + value.length);
      at += value.length + 1;
      return found;
    });
    expect(shared).toEqual(values);
    expect(values.map((value) => interner.intern(value, 0, value.length))).toEqual(values);
  });
});
