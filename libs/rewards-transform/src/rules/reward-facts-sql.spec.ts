import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_DIALECT, REDSHIFT_DIALECT, redshiftSqlOnDuckDb, type SqlDialect } from '@org/sql-dialect';
import { REWARD_FACTS_SCHEMA } from './curated-schemas';
import { rebateRewardScaled, rewardFactsSelectSql } from './reward-facts';
import { transformRun } from '../transform-run';

const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'test', 'fixtures', name), 'utf8');

/** A deterministic generator (a 31-bit LCG: plenty for test data), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed % 2147483648;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/**
 * Raw CSVs full of what makes facts go wrong: zero PLU, perks with and without a fiat value, referrals,
 * unknown references, refunds, EUR and GBP, rejected rewards in any case, huge and tiny amounts, rates whose
 * product lands exactly on a half, instants with offsets that cross a month boundary.
 */
function awkwardRawCsv(rows: number, seed: number): { transactionsCsv: string; rewardsCsv: string } {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
  const int = (max: number) => Math.floor(next() * max);
  const decimal = (digits: number, maxWhole: number) => `${int(maxWhole)}.${String(int(10 ** digits)).padStart(digits, '0')}`;
  const instant = () => {
    const ms = Date.UTC(2019, 0, 1) + int(6 * 365) * 86_400_000 + int(86_400_000);
    const offset = pick(['Z', '+01:00', '-05:00', '+09:30', 'Z']);
    const shift =
      offset === 'Z' ? 0 : (offset[0] === '+' ? 1 : -1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
    return new Date(ms + shift).toISOString().replace('.000Z', '').replace('Z', '') + offset;
  };
  const transactions = ['id,model,user_id,currency,amount,date,type,is_debit,description'];
  const rewards = [
    'id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_type,reference_id,type',
  ];
  const transactionCount = Math.floor(rows * 0.8);
  for (let i = 0; i < transactionCount; i += 1) {
    const size = pick(['tiny', 'normal', 'normal', 'huge']);
    const minor = size === 'tiny' ? 1 + int(5) : size === 'huge' ? 10_000_000_000 + int(89_999_999_999) : int(500_000);
    const refund = next() < 0.1;
    transactions.push(
      [
        `t${i}`,
        'card',
        'u1',
        pick(['GBP', 'EUR']),
        String(refund ? minor : -minor),
        instant(),
        refund ? 'REFUND' : 'PURCHASE',
        String(!refund),
        pick(['TESCO STORES', 'NETFLIX.COM', 'UBER *TRIP', '"CAFFÈ, NERO"']),
      ].join(','),
    );
  }
  for (let i = 0; i < rows; i += 1) {
    const kind = pick(['rebate', 'rebate', 'rebate', 'perk', 'perk-no-fiat', 'referral', 'unknown', 'zero', 'half', 'no-rate']);
    const reference =
      kind === 'referral'
        ? ''
        : kind === 'unknown'
          ? `t-missing-${i}`
          : kind === 'half'
            ? `t${int(Math.min(transactionCount, 200))}`
            : `t${int(transactionCount)}`;
    const rate =
      kind === 'perk' || kind === 'perk-no-fiat'
        ? '0'
        : kind === 'no-rate'
          ? ''
          : kind === 'half'
            ? '0.00005000'
            : `0.${String(int(10 ** 8)).padStart(8, '0')}`;
    const fiat = kind === 'perk' || (kind !== 'perk-no-fiat' && next() < 0.3) ? decimal(6, 1000) : '';
    const plu = kind === 'zero' ? '0' : pick([decimal(8, 3), '0.00000001', decimal(8, 100_000)]);
    const created = instant();
    rewards.push(
      [
        `r${i}`,
        plu,
        String(next() < 0.5),
        pick(['', '', 'Rejected by admin', 'REJECTED', 'auto-rejected: fraud', 'Vested']),
        created,
        next() < 0.2 ? '' : created,
        rate,
        fiat,
        kind === 'referral' ? 'EUR' : pick(['GBP', 'EUR']),
        kind === 'referral' ? 'referral' : 'card_transaction',
        reference,
        kind === 'referral' ? 'REFERRAL' : kind.startsWith('perk') ? 'PERK' : 'REBATE',
      ].join(','),
    );
  }
  return { transactionsCsv: `${transactions.join('\n')}\n`, rewardsCsv: `${rewards.join('\n')}\n` };
}

/**
 * The TypeScript facts (buildRewardFacts, through transformRun) and the SQL facts (rewardFactsSelectSql on
 * DuckDB over the same curated Parquet), compared on every column of every row: IS DISTINCT FROM, so nulls
 * count, and doubles bit for bit.
 */
async function differences(
  connection: DuckDBConnection,
  dir: string,
  raw: { transactionsCsv: string; rewardsCsv: string },
  dialect: SqlDialect = DUCKDB_DIALECT,
) {
  const output = transformRun({ ...raw, withFacts: true });
  for (const name of ['transactions', 'rewards', 'reward_facts'] as const)
    await writeFile(join(dir, `${name}.parquet`), output.parquet[name] as Uint8Array);
  const file = (name: string) => `read_parquet('${join(dir, `${name}.parquet`)}')`;
  await connection.run(`CREATE OR REPLACE TABLE transactions AS SELECT * FROM ${file('transactions')}`);
  await connection.run(`CREATE OR REPLACE TABLE rewards AS SELECT * FROM ${file('rewards')}`);
  const select = rewardFactsSelectSql({ dialect, rewards: 'rewards', transactions: 'transactions' });
  await connection.run(`CREATE OR REPLACE TABLE sql_facts AS ${dialect.name === 'redshift' ? redshiftSqlOnDuckDb(select) : select}`);
  await connection.run(`CREATE OR REPLACE TABLE ts_facts AS SELECT * FROM ${file('reward_facts')}`);
  const checks = REWARD_FACTS_SCHEMA.map(
    (spec) => `count(*) FILTER (WHERE ts."${spec.name}" IS DISTINCT FROM s."${spec.name}")::INTEGER AS "${spec.name}"`,
  );
  const [mismatches] = (
    await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS joined, ${checks.join(', ')} FROM ts_facts AS ts FULL JOIN sql_facts AS s USING (reward_id)`,
    )
  ).getRowObjectsJson() as Record<string, number>[];
  const { joined, ...byColumn } = mismatches;
  const wrong = Object.entries(byColumn).filter(([, n]) => Number(n) > 0);
  const examples: Record<string, unknown> = {};
  for (const [column] of wrong.slice(0, 3)) {
    examples[column] = (
      await connection.runAndReadAll(
        `SELECT reward_id, ts."${column}"::VARCHAR AS ts, s."${column}"::VARCHAR AS sql FROM ts_facts AS ts JOIN sql_facts AS s USING (reward_id) WHERE ts."${column}" IS DISTINCT FROM s."${column}" LIMIT 3`,
      )
    ).getRowObjectsJson();
  }
  return { rows: output.tables.reward_facts?.length ?? 0, joined: Number(joined), wrong: Object.fromEntries(wrong), examples };
}

describe('reward_facts: the TypeScript rules and the warehouse SQL agree', () => {
  let dir: string;
  let connection: DuckDBConnection;
  jest.setTimeout(120_000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'facts-differential-'));
    connection = await (await DuckDBInstance.create(':memory:')).connect();
    // A session in another zone must not move reward_month: the SQL converts to UTC itself.
    await connection.run("SET TimeZone = 'Asia/Tokyo'");
  });
  afterAll(async () => {
    connection?.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([DUCKDB_DIALECT, REDSHIFT_DIALECT])('on the hand-written fixtures, every column of every row ($name SQL)', async (dialect) => {
    const raw = { transactionsCsv: await fixture('transactions.csv'), rewardsCsv: await fixture('rewards.csv') };
    expect(await differences(connection, dir, raw, dialect)).toEqual({ rows: 7, joined: 7, wrong: {}, examples: {} });
  });

  it("on 20,000 random rows, Redshift's text run on DuckDB, every column of every row", async () => {
    const result = await differences(connection, dir, awkwardRawCsv(20_000, 20261202), REDSHIFT_DIALECT);
    expect([result.wrong, result.examples, result.joined]).toEqual([{}, {}, result.rows]);
  });

  it('on 100,000 random rows with awkward values, every column of every row', async () => {
    const raw = awkwardRawCsv(100_000, 20261128);
    const result = await differences(connection, dir, raw);
    expect(result.wrong).toEqual({});
    expect(result.examples).toEqual({});
    expect(result.joined).toBe(result.rows);
    expect(result.rows).toBeGreaterThan(95_000);
    // The generator must really exercise each branch of the definitions.
    const [mix] = (
      await connection.runAndReadAll(`SELECT
        count(*) FILTER (WHERE plu_price_note = 'plu_amount is zero')::INTEGER AS zero_plu,
        count(*) FILTER (WHERE plu_price_note = 'rebate_rate missing')::INTEGER AS no_rate,
        count(*) FILTER (WHERE plu_price_note = 'fiat_amount_rewarded missing')::INTEGER AS perk_no_fiat,
        count(*) FILTER (WHERE plu_price_note = 'no transaction for a rebate')::INTEGER AS orphan_rebate,
        count(*) FILTER (WHERE rebate_rate = 0 AND plu_price IS NOT NULL)::INTEGER AS perk_priced,
        count(*) FILTER (WHERE is_rejected)::INTEGER AS rejected,
        count(*) FILTER (WHERE reference_id IS NULL)::INTEGER AS referral,
        count(*) FILTER (WHERE transaction_amount >= 100000000)::INTEGER AS huge,
        count(*) FILTER (WHERE transaction_amount = 0.01)::INTEGER AS tiny,
        count(*) FILTER (WHERE fiat_amount_rewarded IS NULL AND reward_amount IS NOT NULL)::INTEGER AS computed_reward,
        count(DISTINCT transaction_currency)::INTEGER AS currencies
      FROM sql_facts`)
    ).getRowObjectsJson() as Record<string, number>[];
    for (const [name, count] of Object.entries(mix)) expect([name, Number(count)]).toEqual([name, expect.any(Number)]);
    expect(Object.values(mix).every((count) => Number(count) > 0)).toBe(true);
  });

  it('rounds the rebate reward half away from zero, exactly, past 2^53 too', () => {
    expect(rebateRewardScaled(1, 5_000)).toBe(1); // 0.01 * 0.00005 = 0.0000005 -> 0.000001
    expect(rebateRewardScaled(1, 4_999)).toBe(0);
    expect(rebateRewardScaled(-1, 5_000)).toBe(-1);
    // 99,999,999,999.99 * 0.99999999: the product needs 62 bits.
    expect(rebateRewardScaled(9_999_999_999_999, 99_999_999)).toBe(Number((9_999_999_999_999n * 99_999_999n + 5_000n) / 10_000n));
  });
});
