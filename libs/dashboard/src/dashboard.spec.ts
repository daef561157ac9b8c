import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureWarehouse } from '../test/fixture-warehouse';
import { loadDashboardData, type DashboardData } from './dashboard-data';
import { renderDashboardHtml, type DataHealthView } from './dashboard-html';
import { REDSHIFT_DIALECT, redshiftSqlOnDuckDb } from '@org/sql-dialect';
import { ALL_VIEWS, REPORTING_VIEWS, RETIRED_VIEWS, viewStatements } from './dashboard-views';
import { DATA_HEALTH_TABLES, dataHealthRowStatements } from './data-health-sql';

describe('dashboard views on DuckDB', () => {
  let dir: string;
  let data: DashboardData;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dashboard-'));
    const db = await fixtureWarehouse(dir);
    data = await loadDashboardData(async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('earns PLU per month without rejected rewards, and gives the price per month in each currency', () => {
    expect(data.monthlyPlu).toEqual([
      { reward_month: '2024-03', plu_earned: 0.12894, rewards: 2 },
      { reward_month: '2024-04', plu_earned: 4.7, rewards: 4 },
    ]);
    expect(data.monthlyPrice).toEqual([
      { reward_month: '2024-03', currency: 'GBP', mean_plu_price: 5, min_plu_price: 5, max_plu_price: 5 },
      { reward_month: '2024-04', currency: 'GBP', mean_plu_price: 4.5, min_plu_price: 4, max_plu_price: 5 },
    ]);
  });

  it('values rewards per month and currency, with the effective rate on rewarded spend', () => {
    expect(data.monthlyValue.map((row) => ({ ...row, effective_reward_rate: round(row.effective_reward_rate) }))).toEqual([
      { reward_month: '2024-03', currency: 'GBP', reward_value: 0.645, effective_reward_rate: round(0.645 / 21.49) },
      { reward_month: '2024-04', currency: 'GBP', reward_value: 20.6, effective_reward_rate: round(10 / 31.99) },
    ]);
  });

  it('ranks merchants and categories by purchase spend, per currency', () => {
    expect(data.merchants.map((row) => [row.merchant, row.currency, row.spend, row.plu_earned, row.reward_value])).toEqual([
      ['SNCF PARIS', 'EUR', 45.5, 0, 0],
      ['東京 RAMEN BAR, Soho', 'GBP', 21, 0, 0],
      ['TESCO STORES 3291 LONDON GB', 'GBP', 12.5, 0.075, 0.375],
      ['NETFLIX.COM', 'GBP', 10.99, 2.5, 10],
      ['CAFFÈ NERO 0412', 'GBP', 8.99, 0.05394, 0.27],
    ]);
    expect(data.categories.map((row) => [row.merchant_category, row.currency, row.spend])).toEqual([
      ['travel', 'EUR', 45.5],
      ['eating out', 'GBP', 29.99],
      ['groceries', 'GBP', 12.5],
      ['entertainment', 'GBP', 10.99],
    ]);
  });

  it('splits PLU into available, pending and rejected, and lists rewards without a transaction', () => {
    expect(data.pluStatus.map((row) => [row.status, row.rewards, round(row.plu_amount)])).toEqual([
      ['available', 3, 4.575],
      ['pending', 3, 0.25394],
      ['rejected', 1, 0.3],
    ]);
    expect(data.withoutTransaction.count).toBe(2);
    expect(round(data.withoutTransaction.plu)).toBe(2.2);
    expect(data.withoutTransaction.latest.map((row) => row.reward_id)).toEqual(['r-referral', 'r-orphan']);
  });

  it('gives a daily PLU price series in UTC days', () => {
    expect(data.dailyPrice.map((row) => [row.day, row.currency, row.mean_plu_price])).toEqual([
      ['2024-03-31', 'GBP', 5],
      ['2024-04-05', 'GBP', 4],
      ['2024-04-07', 'GBP', 5],
    ]);
  });

  it("writes the same views for Redshift, whose text run on DuckDB gives every view's rows unchanged", async () => {
    const redshift = viewStatements(REDSHIFT_DIALECT, { schema: 'rewards' });
    expect(redshift).toHaveLength(RETIRED_VIEWS.length + ALL_VIEWS.length);
    // Views whose columns changed are new names; the old ones go (CREATE OR REPLACE cannot change a view's columns).
    expect(redshift.slice(0, 2)).toEqual([
      'DROP VIEW IF EXISTS "rewards"."v_monthly_plu_earned"',
      'DROP VIEW IF EXISTS "rewards"."v_daily_plu_price"',
    ]);
    expect(redshift[2]).toMatch(/^CREATE OR REPLACE VIEW "rewards"\."v_monthly_plu" AS/);
    expect(redshift.find((sql) => sql.includes('"v_daily_plu_price_by_currency" AS'))).toContain(
      `TO_CHAR(CONVERT_TIMEZONE('UTC', created_at), 'YYYY-MM-DD')`,
    );
    expect(() => viewStatements(REDSHIFT_DIALECT, { schema: 'x"; drop' })).toThrow('Not a plain schema name');
    expect(() => viewStatements(REDSHIFT_DIALECT, { timeZone: "UTC'; drop" })).toThrow('Not a time zone name');
    const db = await fixtureWarehouse(dir);
    await db.run('CREATE SCHEMA "rewards"');
    for (const table of ['transactions', 'rewards', 'reward_facts', 'load_ledger', ...DATA_HEALTH_TABLES])
      await db.run(`CREATE VIEW "rewards"."${table}" AS SELECT * FROM main."${table}"`);
    for (const statement of redshift) await db.run(redshiftSqlOnDuckDb(statement));
    for (const view of ALL_VIEWS) {
      const rows = async (name: string) => (await db.runAndReadAll(`SELECT * FROM ${name} ORDER BY ALL`)).getRowObjectsJson();
      expect([view.name, await rows(`"rewards"."${view.name}"`)]).toEqual([view.name, await rows(`main."${view.name}"`)]);
    }
    db.closeSync();
  });

  it("groups months and days in the reporting time zone, never the machine's: a reward at 12:00 UTC on 31 March is 1 April in Auckland", async () => {
    const auckland = await fixtureWarehouse(dir, 'Pacific/Auckland');
    const aucklandData = await loadDashboardData(async (sql) => (await auckland.runAndReadAll(sql)).getRowObjectsJson());
    auckland.closeSync();
    expect(data.dailyPrice[0].day).toBe('2024-03-31');
    expect(aucklandData.dailyPrice.map((row) => row.day)).toEqual(['2024-03-31', '2024-04-01', '2024-04-05', '2024-04-07']);
    const march = (rows: typeof data.monthlyPlu) => rows.find((row) => row.reward_month === '2024-03')?.rewards;
    expect([march(data.monthlyPlu), march(aucklandData.monthlyPlu)]).toEqual([2, 1]);
    // The same PLU in all: a zone moves rewards between months, never adds or loses one.
    const total = (rows: { plu_earned: number }[]) => round(rows.reduce((sum, row) => sum + row.plu_earned, 0));
    expect(total(aucklandData.monthlyPlu)).toBe(total(data.monthlyPlu));
  });

  it("gives Looker Studio one flat view per chart, months and days as DATEs, a currency beside every fiat amount, and the dashboard's numbers", async () => {
    const db = await fixtureWarehouse(dir);
    const columns = async (view: string) =>
      (
        await db.runAndReadAll(
          `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${view}' ORDER BY ordinal_position`,
        )
      )
        .getRowObjectsJson()
        .map((row) => [String(row['column_name']), String(row['data_type'])]);
    for (const view of REPORTING_VIEWS) {
      const cols = Object.fromEntries(await columns(view.name));
      for (const [name, type] of Object.entries(cols)) {
        if (/^(month|day|created_date)$/.test(name)) expect([view.name, name, type]).toEqual([view.name, name, 'DATE']);
        if (/(spend|reward_value|reward_amount|price)/.test(name))
          expect([view.name, name, 'currency' in cols]).toEqual([view.name, name, true]);
      }
    }
    const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();
    expect(
      (await rows('SELECT CAST(month AS VARCHAR) AS month, plu_earned FROM report_monthly_plu ORDER BY month')).map((row) => ({
        ...row,
        plu_earned: Number(row['plu_earned']),
      })),
    ).toEqual(data.monthlyPlu.map((row) => ({ month: `${row.reward_month}-01`, plu_earned: row.plu_earned })));
    expect((await rows('SELECT transactions, rewards FROM report_freshness'))[0]).toEqual({
      transactions: String(data.merchants.length ? (await rows('SELECT count(*) AS n FROM transactions'))[0]['n'] : 0),
      rewards: String((await rows('SELECT count(*) AS n FROM rewards'))[0]['n']),
    });
    expect(await rows('SELECT load_number, run_id FROM report_load_history')).toEqual([{ load_number: '1', run_id: 'fixture-run' }]);
    db.closeSync();
  });

  it('renders a self-contained page with money in its currency, and an empty state for an empty warehouse', async () => {
    const html = await renderDashboardHtml(data, { generatedAt: new Date('2026-11-28T12:00:00Z') });
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('€45.50');
    expect(html).toContain('£');
    expect((html.match(/<section class="chart" data-chart=/g) ?? []).length).toBe(7);
    const empty = await renderDashboardHtml(
      {
        monthlyPlu: [],
        monthlyPrice: [],
        monthlyValue: [],
        merchants: [],
        categories: [],
        pluStatus: [],
        withoutTransaction: { count: 0, plu: 0, latest: [] },
        dailyPrice: [],
      },
      { generatedAt: new Date() },
    );
    expect(empty).toContain('data-empty="true"');
    expect(empty).not.toContain('<svg');
  });

  const HEALTH: DataHealthView = {
    newest: { transaction: '2026-11-27T18:00:00.000Z', rewardUpdate: '2026-11-28T01:00:00.000Z' },
    lastSuccessfulRun: { runId: 'r2', mode: 'incremental', finishedAt: '2026-11-28T06:00:00.000Z' },
    lastReconciliation: {
      runId: 'r2',
      at: '2026-11-28T05:59:00.000Z',
      ledgerRuns: 1,
      runsReplayed: 1,
      factsRederived: false,
      sourceMonthsChecked: true,
      sourceMonthsDiffering: 2,
      monthsRepulled: ['2026-03'],
      monthsLeftToVerify: ['2026-04'],
    },
    lastVerification: null,
    quarantined: [{ dataset: 'rewards', reason: 'amount not a number', rows: 3 }],
    recentRuns: [
      {
        runId: 'r3',
        mode: 'incremental',
        status: 'failed',
        startedAt: '2026-11-28T07:00:00.000Z',
        transactions: 0,
        rewards: 0,
        error: 'load: WarehouseDisagreesError',
      },
      { runId: 'r2', mode: 'incremental', status: 'succeeded', startedAt: '2026-11-28T05:58:00.000Z', transactions: 40, rewards: 12 },
    ],
  };

  it('shows data health: freshness, the last reconciliation, quarantined rows by reason, the recent runs with failures', async () => {
    const html = await renderDashboardHtml(data, {
      generatedAt: new Date('2026-11-28T12:00:00Z'),
      health: HEALTH,
    });
    const section = html.slice(html.indexOf('data-section="data-health"'));
    expect(section).toContain('<dt>Newest transaction</dt><dd>2026-11-27 18:00 UTC</dd>');
    expect(section).toContain('1 run(s) replayed');
    expect(section).toContain('pulled again: 2026-03; left to verify: 2026-04');
    expect(section).toContain('<td>amount not a number</td><td class="num">3</td>');
    expect(section).toMatch(/<tr data-status="failed">.*load: WarehouseDisagreesError/);
    expect(await renderDashboardHtml(data, { generatedAt: new Date() })).not.toContain('data-health');
  });

  it("keeps the same data health in the warehouse for Looker Studio: its views give the page's figures, failed runs included, text escaped", async () => {
    const db = await fixtureWarehouse(dir);
    const health: DataHealthView = {
      ...HEALTH,
      recentRuns: [
        { ...HEALTH.recentRuns[0], error: `load: can't merge; DROP TABLE x; -- ${'é'.repeat(2000)}` },
        ...HEALTH.recentRuns.slice(1),
      ],
    };
    const statements = dataHealthRowStatements(health, new Date('2026-11-28T12:00:00Z'), (name) => `"${name}"`);
    // Twice: each load replaces what the last one kept.
    for (const sql of [...statements, ...statements]) await db.run(sql);
    const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();
    expect(
      await rows(
        'SELECT run_id, status, transactions, CAST(started_date AS VARCHAR) AS day FROM report_recent_runs ORDER BY started_at DESC',
      ),
    ).toEqual([
      { run_id: 'r3', status: 'failed', transactions: '0', day: '2026-11-28' },
      { run_id: 'r2', status: 'succeeded', transactions: '40', day: '2026-11-28' },
    ]);
    const [failed] = await rows("SELECT error FROM report_recent_runs WHERE status = 'failed'");
    expect(String(failed['error'])).toMatch(/^load: can't merge; DROP TABLE x; -- é+$/);
    expect(String(failed['error']).length).toBe(1000);
    expect(await rows('SELECT dataset, reason, quarantined_rows FROM report_quarantined_rows')).toEqual([
      { dataset: 'rewards', reason: 'amount not a number', quarantined_rows: '3' },
    ]);
    const [summary] = await rows(
      'SELECT CAST(newest_transaction_at AS VARCHAR) AS newest, runs_replayed, months_pulled_again, months_left_to_verify, verification_agreed FROM report_data_health',
    );
    expect(summary).toEqual({
      newest: '2026-11-27 18:00:00+00',
      runs_replayed: '1',
      months_pulled_again: '2026-03',
      months_left_to_verify: '2026-04',
      verification_agreed: null,
    });
    db.closeSync();
  });
});

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1e6) / 1e6;
}

describe('what the page states is so', () => {
  const chartOf = (html: string, id: string) =>
    html.slice(html.indexOf(`data-chart="${id}"`), html.indexOf('</section>', html.indexOf(`data-chart="${id}"`)));
  /** The desktop drawing's text, as the SVG carries it. */
  const textOf = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
  const spend = (merchant_category: string, currency: string, amount: number) => ({
    merchant_category,
    currency,
    purchases: 1,
    spend: amount,
    plu_earned: 0.5,
    reward_value: 0.1,
  });
  const twoCurrencies: DashboardData = {
    monthlyPlu: [
      { reward_month: '2026-10', plu_earned: 4, rewards: 3 },
      { reward_month: '2026-11', plu_earned: 1, rewards: 1 },
    ],
    monthlyPrice: [
      { reward_month: '2026-10', currency: 'EUR', mean_plu_price: 4.6, min_plu_price: 4.5, max_plu_price: 4.7 },
      { reward_month: '2026-10', currency: 'GBP', mean_plu_price: 4.07, min_plu_price: 4, max_plu_price: 4.1 },
    ],
    monthlyValue: [{ reward_month: '2026-11', currency: 'GBP', reward_value: 2, effective_reward_rate: 0.03 }],
    merchants: [
      { merchant: 'SNCF', ...spend('travel', 'EUR', 900) },
      { merchant: 'TESCO', ...spend('groceries', 'GBP', 12) },
    ],
    categories: [spend('travel', 'EUR', 900), spend('travel', 'GBP', 30), spend('groceries', 'GBP', 12)],
    pluStatus: [{ status: 'available', rewards: 1, plu_amount: 1 }],
    withoutTransaction: {
      count: 15,
      plu: 3,
      latest: Array.from({ length: 10 }, (_, index) => ({
        reward_id: `r${index}`,
        created_at: '2026-11-01T10:00:00Z',
        reward_type: 'REFERRAL',
        reference_type: 'referral',
        reference_id: `ref-${index}`,
        plu_amount: 0.3,
      })),
    },
    dailyPrice: [
      { day: '2023-07-01', currency: 'EUR', mean_plu_price: 4.6, min_plu_price: 4.5, max_plu_price: 4.7 },
      { day: '2023-07-01', currency: 'GBP', mean_plu_price: 4.07, min_plu_price: 4, max_plu_price: 4.1 },
    ],
  };

  it('never adds or compares two currencies: spend gets one axis per currency, the price one line per currency', async () => {
    const html = await renderDashboardHtml(twoCurrencies, { generatedAt: new Date('2026-11-30T23:00:00Z') });
    for (const id of ['categories', 'top-merchants']) {
      const text = textOf(chartOf(html, id));
      expect([id, text.filter((label) => label.startsWith('Spend'))]).toEqual([
        id,
        ['Spend (EUR)', 'Spend (GBP)', 'Spend (EUR)', 'Spend (GBP)'],
      ]);
    }
    expect(textOf(chartOf(html, 'top-merchants'))).toContain('SNCF');
    // What a subtitle promises is drawn: each bar's hover title carries the PLU its merchant earned.
    expect(chartOf(html, 'top-merchants')).toMatch(/<title>Spend \(EUR\): 900; merchant: SNCF; PLU earned: 0\.50 PLU<\/title>/);
    for (const id of ['monthly-plu', 'daily-price'])
      expect([id, textOf(chartOf(html, id)).filter((t) => /^(EUR|GBP)$/.test(t))]).toEqual([id, ['EUR', 'GBP', 'EUR', 'GBP']]);
  });

  it("draws every chart without a warning from Vega-Lite (it would print into the runner's output)", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await renderDashboardHtml(twoCurrencies, { generatedAt: new Date('2026-11-28T12:00:00Z') });
      expect(warn.mock.calls).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it("labels days in UTC whatever the machine's time zone", async () => {
    const zone = process.env['TZ'];
    process.env['TZ'] = 'America/New_York';
    try {
      const text = textOf(
        chartOf(await renderDashboardHtml(twoCurrencies, { generatedAt: new Date('2026-11-30T23:00:00Z') }), 'daily-price'),
      );
      expect(text).toContain('Jul 01, 2023');
      expect(text.join(' ')).not.toContain('Jun 30');
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  it('marks the current month as month to date, and says how many rewards without a transaction it does not list', async () => {
    const html = await renderDashboardHtml(twoCurrencies, { generatedAt: new Date('2026-11-28T12:00:00Z') });
    expect(textOf(chartOf(html, 'monthly-plu'))).toContain('2026-11 (to date)');
    expect(html).toContain('2026-11 is month to date (28 of 30 days, UTC).');
    const whole = await renderDashboardHtml(twoCurrencies, { generatedAt: new Date('2026-11-30T23:00:00Z') });
    expect(whole).not.toContain('(to date)');
    expect(html).toContain('15 reward(s), 3.00 PLU');
    expect(html).toContain('The newest 10 are listed; 5 more are in the view v_rewards_without_transaction.');
    expect(html).toContain('referral <code>ref-0</code>');
  });

  it("draws every spending category's name whole on a phone (the narrow drawing), not cut to a few letters", async () => {
    const categories = ['entertainment', 'groceries', 'eating out', 'transport', 'shopping', 'travel', 'health'];
    const html = await renderDashboardHtml(
      { ...twoCurrencies, categories: categories.map((name, i) => spend(name, 'GBP', 100 - i)) },
      { generatedAt: new Date('2026-11-30T23:00:00Z') },
    );
    const chart = chartOf(html, 'categories');
    const narrow = chart.slice(chart.indexOf('<div class="narrow">'));
    expect(categories.filter((name) => !textOf(narrow).includes(name))).toEqual([]);
    // The drawing keeps to the phone's width: its text is not shrunk by scaling a wider picture down.
    const widths = [...narrow.matchAll(/<svg[^>]*\bviewBox="0 0 (\d+(?:\.\d+)?) /g)].map((match) => Number(match[1]));
    expect(widths.length).toBeGreaterThan(0);
    expect(Math.max(...widths)).toBeLessThanOrEqual(300);
  });

  it('reads the current month, the footer and every time on the page in the reporting time zone', async () => {
    // 03:00 UTC on 1 November is still 31 October in Los Angeles: November has not begun there.
    const generatedAt = new Date('2026-11-01T03:00:00Z');
    const utc = await renderDashboardHtml(twoCurrencies, { generatedAt });
    expect(utc).toContain('2026-11 is month to date (1 of 30 days, UTC).');
    const la = await renderDashboardHtml(twoCurrencies, { generatedAt, timeZone: 'America/Los_Angeles' });
    expect(la).not.toContain('(to date)');
    expect(la).toContain('Generated 2026-10-31 20:00 America/Los_Angeles');
    expect(la).toContain('per day (America/Los_Angeles)');
    await expect(renderDashboardHtml(twoCurrencies, { generatedAt, timeZone: 'Mars/Olympus' })).rejects.toThrow('Not a time zone name');
  });
});
