import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseCsv } from './engine/csv';
import { RawInputError } from './transform-errors';
import { tableRows, type Table } from './engine/table';
import { tableToDataFrame } from './engine/dataframe';
import { REWARD_FACTS_SCHEMA, TRANSACTIONS_SCHEMA } from './rules/curated-schemas';
import { parquetToTable } from './engine/parquet-input';
import { transformRun, type TransformOutput } from './transform-run';

const fixture = (name: string) => readFile(join(__dirname, '..', 'test', 'fixtures', name), 'utf8');

describe('transformRun on hand-written fixtures', () => {
  let output: TransformOutput;
  let dir: string;
  let query: (sql: string) => Promise<Record<string, unknown>[]>;

  beforeAll(async () => {
    output = transformRun({
      transactionsCsv: await fixture('transactions.csv'),
      rewardsCsv: await fixture('rewards.csv'),
      withFacts: true,
    });
    dir = await mkdtemp(join(tmpdir(), 'rewards-transform-'));
    for (const [name, bytes] of Object.entries(output.parquet)) await writeFile(join(dir, `${name}.parquet`), bytes);
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    query = async (sql) =>
      (
        await connection.runAndReadAll(sql.replace(/\{(\w+)\}/g, (_, name) => `read_parquet('${join(dir, `${name}.parquet`)}')`))
      ).getRowObjectsJson() as Record<string, unknown>[];
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('quarantines every bad row with its reason and original cells', () => {
    expect(output.quality.transactions.rejectedByReason).toEqual({
      'missing id': 1,
      'amount not an integer': 1,
      'unparseable date': 1,
      'date has no UTC offset': 1,
      'currency not a currency code': 1,
    });
    expect(output.quality.rewards.rejectedByReason).toEqual({ 'amount not a number': 1, 'rebate_rate is negative': 1 });
    const rejects = parseCsv(output.rejectsCsv.transactions as string);
    expect(rejects.header.at(-1)).toBe('_reject_reason');
    const amountIndex = rejects.header.indexOf('amount');
    expect(rejects.columns[amountIndex]).toContain('-12.50');
  });

  it('counts rows in and out, duplicates removed and rewards without a transaction', () => {
    expect(output.quality.transactions).toMatchObject({ rowsIn: 12, rowsOut: 6, rejected: 5, duplicatesRemoved: 1 });
    expect(output.quality.rewards).toMatchObject({ rowsIn: 10, rowsOut: 7, rejected: 2, duplicatesRemoved: 1 });
    expect(output.quality.reward_facts).toMatchObject({
      rows: 7,
      rewardsWithoutTransaction: 2,
      pluPriceNullByNote: { 'plu_amount is zero': 1, 'no transaction for a rebate': 1 },
    });
  });

  it('writes transactions that DuckDB reads back with exact types and values', async () => {
    const rows = await query(
      `select transaction_id, currency, amount_minor, transaction_amount::varchar as amount, epoch_ms(transaction_date) as at, transaction_type, is_debit, description, merchant_category from {transactions} order by transaction_id`,
    );
    expect(rows).toEqual([
      {
        transaction_id: 't-dst',
        currency: 'GBP',
        amount_minor: '-899',
        amount: '8.99',
        at: String(Date.parse('2024-03-31T01:30:00Z')),
        transaction_type: 'PURCHASE',
        is_debit: true,
        description: 'CAFFÈ NERO 0412',
        merchant_category: 'eating out',
      },
      {
        transaction_id: 't-eur',
        currency: 'EUR',
        amount_minor: '-4550',
        amount: '45.50',
        at: String(Date.parse('2024-10-26T23:30:00Z')),
        transaction_type: 'PURCHASE',
        is_debit: true,
        description: 'SNCF PARIS',
        merchant_category: 'travel',
      },
      {
        transaction_id: 't-netflix',
        currency: 'GBP',
        amount_minor: '-1099',
        amount: '10.99',
        at: String(Date.parse('2024-04-03T06:00:00Z')),
        transaction_type: 'PURCHASE',
        is_debit: true,
        description: 'NETFLIX.COM',
        merchant_category: 'entertainment',
      },
      {
        transaction_id: 't-purchase',
        currency: 'GBP',
        amount_minor: '-1250',
        amount: '12.50',
        at: String(Date.parse('2024-03-30T23:30:00Z')),
        transaction_type: 'PURCHASE',
        is_debit: true,
        description: 'TESCO STORES 3291 LONDON GB',
        merchant_category: 'groceries',
      },
      {
        transaction_id: 't-refund',
        currency: 'GBP',
        amount_minor: '1250',
        amount: '12.50',
        at: String(Date.parse('2024-04-02T10:00:00Z')),
        transaction_type: 'REFUND',
        is_debit: false,
        description: 'REFUND TESCO STORES 3291 LONDON GB',
        merchant_category: 'groceries',
      },
      {
        transaction_id: 't-unicode',
        currency: 'GBP',
        amount_minor: '-2100',
        amount: '21.00',
        at: String(Date.parse('2024-04-03T19:00:00.123Z')),
        transaction_type: 'PURCHASE',
        is_debit: true,
        description: '東京 RAMEN BAR, Soho',
        merchant_category: 'eating out',
      },
    ]);
    const types = await query(`select column_name, column_type from (describe select * from {transactions})`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      amount_minor: 'BIGINT',
      transaction_amount: 'DECIMAL(18,2)',
      transaction_date: 'TIMESTAMP WITH TIME ZONE',
      is_debit: 'BOOLEAN',
      description: 'VARCHAR',
    });
  });

  it('keeps the latest version of a duplicated reward and fills a missing updatedAt', async () => {
    const rows = await query(
      `select reward_id, is_available, epoch_ms(updated_at) as updated, epoch_ms(created_at) as created, plu_amount::varchar as plu, fiat_amount_rewarded::varchar as fiat from {rewards} where reward_id in ('r-rebate', 'r-dst') order by reward_id`,
    );
    expect(rows).toEqual([
      {
        reward_id: 'r-dst',
        is_available: false,
        updated: String(Date.parse('2024-03-31T02:00:00Z')),
        created: String(Date.parse('2024-03-31T02:00:00Z')),
        plu: '0.05394000',
        fiat: '0.270000',
      },
      {
        reward_id: 'r-rebate',
        is_available: true,
        updated: String(Date.parse('2024-05-15T12:00:00Z')),
        created: String(Date.parse('2024-03-31T12:00:00Z')),
        plu: '0.07500000',
        fiat: '0.375000',
      },
    ]);
  });

  it('joins rewards to transactions and derives the analysis columns without NaN or Infinity', async () => {
    const rows = await query(
      `select reward_id, has_transaction, merchant, transaction_amount::varchar as tx, reward_amount::varchar as reward, round(plu_price, 6) as price, plu_price_note, round(effective_reward_rate, 6) as rate, is_rejected, is_available, reward_month from {reward_facts} order by reward_id`,
    );
    expect(rows).toEqual([
      {
        reward_id: 'r-dst',
        has_transaction: true,
        merchant: 'CAFFÈ NERO 0412',
        tx: '8.99',
        reward: '0.270000',
        price: 5.0,
        plu_price_note: null,
        rate: 0.030033,
        is_rejected: false,
        is_available: false,
        reward_month: '2024-03',
      },
      {
        reward_id: 'r-eur',
        has_transaction: true,
        merchant: 'SNCF PARIS',
        tx: '45.50',
        reward: '1.365000',
        price: 4.55,
        plu_price_note: null,
        rate: 0.03,
        is_rejected: true,
        is_available: false,
        reward_month: '2024-10',
      },
      {
        reward_id: 'r-orphan',
        has_transaction: false,
        merchant: null,
        tx: null,
        reward: '0.600000',
        price: null,
        plu_price_note: 'no transaction for a rebate',
        rate: null,
        is_rejected: false,
        is_available: false,
        reward_month: '2024-04',
      },
      {
        reward_id: 'r-perk',
        has_transaction: true,
        merchant: 'NETFLIX.COM',
        tx: '10.99',
        reward: '10.000000',
        price: 4.0,
        plu_price_note: null,
        rate: 0.909918,
        is_rejected: false,
        is_available: true,
        reward_month: '2024-04',
      },
      {
        reward_id: 'r-rebate',
        has_transaction: true,
        merchant: 'TESCO STORES 3291 LONDON GB',
        tx: '12.50',
        reward: '0.375000',
        price: 5.0,
        plu_price_note: null,
        rate: 0.03,
        is_rejected: false,
        is_available: true,
        reward_month: '2024-03',
      },
      {
        reward_id: 'r-referral',
        has_transaction: false,
        merchant: null,
        tx: null,
        reward: '10.000000',
        price: 5.0,
        plu_price_note: null,
        rate: null,
        is_rejected: false,
        is_available: true,
        reward_month: '2024-04',
      },
      {
        reward_id: 'r-zero',
        has_transaction: true,
        merchant: '東京 RAMEN BAR, Soho',
        tx: '21.00',
        reward: '0.000000',
        price: null,
        plu_price_note: 'plu_amount is zero',
        rate: 0,
        is_rejected: false,
        is_available: false,
        reward_month: '2024-04',
      },
    ]);
    const [bad] = await query(
      `select count(*)::int as n from {reward_facts} where isnan(plu_price) or isinf(plu_price) or isnan(effective_reward_rate) or isinf(effective_reward_rate)`,
    );
    expect(bad.n).toBe(0);
  });

  it('leaves the facts to the warehouse unless asked: the lake gets the two cleaned datasets only', async () => {
    const plain = transformRun({ transactionsCsv: await fixture('transactions.csv'), rewardsCsv: await fixture('rewards.csv') });
    expect(Object.keys(plain.parquet).sort()).toEqual(['rewards', 'transactions']);
    expect(plain.tables.reward_facts).toBeUndefined();
    expect(plain.quality.reward_facts).toBeUndefined();
  });

  it('refuses a file without a required column, naming it', () => {
    expect(() => transformRun({ transactionsCsv: 'id,currency,date\n', rewardsCsv: 'id,amount,createdAt\n' })).toThrow(RawInputError);
    expect(() => transformRun({ transactionsCsv: 'id,currency,date\n', rewardsCsv: 'id,amount,createdAt\n' })).toThrow(
      'transactions: required column "amount" is missing',
    );
  });

  it('hands the facts to danfojs as a DataFrame with decimals as numbers', () => {
    const frame = tableToDataFrame(output.tables.reward_facts as Table, REWARD_FACTS_SCHEMA);
    expect(frame.shape).toEqual([7, REWARD_FACTS_SCHEMA.length]);
    expect(frame['reward_amount'].values).toContain(10);
  });

  it('writes zstd when asked', async () => {
    const zstd = transformRun({
      transactionsCsv: await fixture('transactions.csv'),
      rewardsCsv: await fixture('rewards.csv'),
      compression: 'zstd',
    });
    await writeFile(join(dir, 'zstd.parquet'), zstd.parquet.rewards);
    const [meta] = await query(`select compression from parquet_metadata('${join(dir, 'zstd.parquet')}') limit 1`);
    expect(meta.compression).toBe('ZSTD');
  });

  it('keeps min/max statistics on times, amounts and flags, where a reader prunes by them, and none on text (as DuckDB reads the file)', async () => {
    const stats = await query(
      `select path_in_schema AS col, stats_min_value IS NOT NULL AS has_min, stats_max_value IS NOT NULL AS has_max from parquet_metadata('${join(dir, 'transactions.parquet')}')`,
    );
    const of = (name: string) => stats.find((row) => row['col'] === name);
    for (const name of ['transaction_date', 'amount_minor', 'transaction_amount'])
      expect([name, of(name)?.['has_min'], of(name)?.['has_max']]).toEqual([name, true, true]);
    for (const spec of TRANSACTIONS_SCHEMA.filter((column) => column.kind === 'string'))
      expect([spec.name, of(spec.name)?.['has_min'], of(spec.name)?.['has_max']]).toEqual([spec.name, false, false]);
  });

  it('writes identifiers plain and the other text with a dictionary (the encodings DuckDB reads from the file)', async () => {
    const facts = transformRun({
      transactionsCsv: await fixture('transactions.csv'),
      rewardsCsv: await fixture('rewards.csv'),
      withFacts: true,
    });
    await writeFile(join(dir, 'facts.parquet'), facts.parquet.reward_facts as Uint8Array);
    const encodings = await query(`select path_in_schema AS col, encodings from parquet_metadata('${join(dir, 'facts.parquet')}')`);
    const of = (name: string) => String(encodings.find((row) => row['col'] === name)?.['encodings']);
    for (const name of ['reward_id', 'reference_id']) expect([name, of(name)]).toEqual([name, expect.not.stringContaining('DICTIONARY')]);
    for (const name of ['currency', 'merchant', 'reward_month'])
      expect([name, of(name)]).toEqual([name, expect.stringContaining('DICTIONARY')]);
  });
});

describe('parquetToTable', () => {
  it('reads back exactly what tableToParquet wrote, nulls and negatives included', async () => {
    const schema = TRANSACTIONS_SCHEMA;
    const output = transformRun({ transactionsCsv: await fixture('transactions.csv'), rewardsCsv: 'id,amount,createdAt\n' });
    const back = parquetToTable(output.parquet.transactions, schema);
    expect(tableRows(back)).toEqual(tableRows(output.tables.transactions));
    const factsSchema = REWARD_FACTS_SCHEMA;
    const facts = transformRun({
      transactionsCsv: await fixture('transactions.csv'),
      rewardsCsv: await fixture('rewards.csv'),
      withFacts: true,
    });
    expect(tableRows(parquetToTable(facts.parquet.reward_facts as Uint8Array, factsSchema))).toEqual(
      tableRows(facts.tables.reward_facts as Table),
    );
  });
});

describe("text bounded by the warehouse's limit (maxTextBytes)", () => {
  // Multi-byte text: 'é' is 2 UTF-8 bytes, '€' 3, an emoji 4 (two UTF-16 units). Bytes count, not characters.
  const header = 'id,model,user_id,currency,amount,date,type,is_debit,description';
  const row = (id: string, description: string) => `${id},card,u1,GBP,-1250,2026-10-01T10:00:00Z,PURCHASE,true,"${description}"`;
  const rewards = 'id,amount,createdAt\nr1,1.5,2026-10-01T10:00:00Z\n';
  const transactionsCsv = [
    header,
    row('ok-a', 'a'.repeat(16)),
    row('ok-m', '€'.repeat(5) + 'a'), // 16 bytes, 6 characters
    row('long-m', '€'.repeat(6)), // 18 bytes, 6 characters: the character count alone would pass it
    row('long-e', '😀'.repeat(5)), // 20 bytes
    row('long-a', 'b'.repeat(17)),
  ].join('\n');

  it('quarantines a row whose text is longer than the limit in UTF-8 bytes, keeping its cells and giving the reason', () => {
    const output = transformRun({ transactionsCsv, rewardsCsv: rewards, maxTextBytes: 16 });
    expect((output.tables.transactions.columns['transaction_id'] as string[]).slice().sort()).toEqual(['ok-a', 'ok-m']);
    expect(output.quality.transactions.rejectedByReason).toEqual({ "description is longer than 16 bytes, the warehouse's limit": 3 });
    const rejects = parseCsv(output.rejectsCsv.transactions as string);
    const description = rejects.columns[rejects.header.indexOf('description')];
    expect(description).toEqual(['€'.repeat(6), '😀'.repeat(5), 'b'.repeat(17)]);
  });

  it('keeps every row without a limit (DuckDB text is unbounded), and the same rows through the general reader', () => {
    expect(transformRun({ transactionsCsv, rewardsCsv: rewards }).quality.transactions.rejected).toBe(0);
    // Padded cells take the general road (`parse`), which measures the same way as the one-pass reader.
    const padded = transactionsCsv.replace(/"([^"]*)"/g, '" $1 "');
    const output = transformRun({ transactionsCsv: padded, rewardsCsv: rewards, maxTextBytes: 16 });
    expect(output.quality.transactions.rejected).toBe(3);
  });
});
