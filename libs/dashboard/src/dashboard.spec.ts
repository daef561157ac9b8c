import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureWarehouse } from '../test/fixture-warehouse';
import { loadDashboardData, type DashboardData } from './dashboard-data';
import { renderDashboardHtml } from './dashboard-html';
import { REDSHIFT_DIALECT, redshiftSqlOnDuckDb } from '@org/sql-dialect';
import { DASHBOARD_VIEWS, viewStatements } from './dashboard-views';

describe('dashboard views on DuckDB', () => {
  let dir: string;
  let data: DashboardData;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dashboard-'));
    const db = await fixtureWarehouse(dir);
    data = await loadDashboardData(async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('earns PLU per month without rejected rewards, with mean, min and max price', () => {
    expect(data.monthlyPlu).toEqual([
      { reward_month: '2024-03', plu_earned: 0.12894, rewards: 2, mean_plu_price: 5, min_plu_price: 5, max_plu_price: 5 },
      { reward_month: '2024-04', plu_earned: 4.7, rewards: 4, mean_plu_price: 4.5, min_plu_price: 4, max_plu_price: 5 },
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
    expect(data.dailyPrice.map((row) => [row.day, row.mean_plu_price])).toEqual([
      ['2024-03-31', 5],
      ['2024-04-05', 4],
      ['2024-04-07', 5],
    ]);
  });

  it("writes the same views for Redshift, whose text run on DuckDB gives every view's rows unchanged", async () => {
    const redshift = viewStatements(REDSHIFT_DIALECT, 'rewards');
    expect(redshift).toHaveLength(7);
    expect(redshift[0]).toMatch(/^CREATE OR REPLACE VIEW "rewards"\."v_monthly_plu_earned" AS/);
    expect(redshift.at(-1)).toContain(`TO_CHAR(CONVERT_TIMEZONE('UTC', created_at), 'YYYY-MM-DD')`);
    expect(() => viewStatements(REDSHIFT_DIALECT, 'x"; drop')).toThrow('Not a plain schema name');
    const db = await fixtureWarehouse(dir);
    await db.run('CREATE SCHEMA "rewards"');
    for (const table of ['transactions', 'rewards', 'reward_facts'])
      await db.run(`CREATE VIEW "rewards"."${table}" AS SELECT * FROM main."${table}"`);
    for (const statement of redshift) await db.run(redshiftSqlOnDuckDb(statement));
    for (const view of DASHBOARD_VIEWS) {
      const rows = async (name: string) => (await db.runAndReadAll(`SELECT * FROM ${name} ORDER BY ALL`)).getRowObjectsJson();
      expect([view.name, await rows(`"rewards"."${view.name}"`)]).toEqual([view.name, await rows(`main."${view.name}"`)]);
    }
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

  it('shows data health: freshness, the last reconciliation, quarantined rows by reason, the recent runs with failures', async () => {
    const html = await renderDashboardHtml(data, {
      generatedAt: new Date('2026-11-28T12:00:00Z'),
      health: {
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
      },
    });
    const section = html.slice(html.indexOf('data-section="data-health"'));
    expect(section).toContain('<dt>Newest transaction</dt><dd>2026-11-27 18:00 UTC</dd>');
    expect(section).toContain('1 run(s) replayed');
    expect(section).toContain('pulled again: 2026-03; left to verify: 2026-04');
    expect(section).toContain('<td>amount not a number</td><td class="num">3</td>');
    expect(section).toMatch(/<tr data-status="failed">.*load: WarehouseDisagreesError/);
    expect(await renderDashboardHtml(data, { generatedAt: new Date() })).not.toContain('data-health');
  });
});

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1e6) / 1e6;
}
