import type { TopLevelSpec } from 'vega-lite';
import { chartSvg } from './chart-svg';
import type { DashboardData } from './dashboard-data';
import { ViewSchemaError } from './dashboard-errors';

export interface DashboardOptions {
  title?: string;
  /** Shown in the footer; the caller's clock. */
  generatedAt: Date;
  /** Where the data came from, e.g. the warehouse path. */
  source?: string;
  /** How fresh and sound the data is (from the lake's manifests: `summarizeDataHealth` of `@org/pipeline`). */
  health?: DataHealthView;
  /**
   * The reporting time zone the views were made in (an IANA name; default UTC): the page's dates, times and
   * month-to-date mark are this zone's, never the machine's.
   */
  timeZone?: string;
}

/** What the Data health section shows; `@org/pipeline`'s `DataHealth` has this shape. */
export interface DataHealthView {
  newest: { transaction: string | null; rewardUpdate: string | null };
  lastSuccessfulRun: { runId: string; mode: string; finishedAt: string } | null;
  lastReconciliation: {
    runId: string;
    at: string;
    ledgerRuns: number;
    runsReplayed: number;
    factsRederived: boolean;
    sourceMonthsChecked: boolean;
    sourceMonthsDiffering: number;
    monthsRepulled: string[];
    monthsLeftToVerify: string[];
    /** The rewards ledger against the lake (by month of change): months that differed, landed again, left to verify. */
    rewardMonthsDiffering?: number;
    rewardMonthsLanded?: string[];
    rewardMonthsLeftToVerify?: string[];
  } | null;
  lastVerification: { runId: string; at: string; ok: boolean; checksFailed: number } | null;
  quarantined: { dataset: string; reason: string; rows: number }[];
  recentRuns: { runId: string; mode: string; status: string; startedAt: string; transactions: number; rewards: number; error?: string }[];
}

interface Chart {
  id: string;
  title: string;
  caption: string;
  /** The drawing at a width: phones get their own narrower one, not the desktop one shrunk. */
  spec?: (width: number) => TopLevelSpec;
}

const W = 460;
const H = 260;

/**
 * One self-contained HTML file: headline figures and a chart per view, styles and SVG inline, no script and
 * no network request when opened. An empty warehouse gets a clear empty state, not broken charts.
 */
export async function renderDashboardHtml(data: DashboardData, options: DashboardOptions): Promise<string> {
  const title = options.title ?? 'Plutus card rewards';
  const clock = zonedClock(options.timeZone ?? 'UTC');
  const empty = data.monthlyPlu.length === 0 && data.merchants.length === 0 && data.pluStatus.length === 0;
  const body = empty
    ? emptyState()
    : `${headline(data)}\n${(await Promise.all(charts(data, options.generatedAt, clock).map(renderChart))).join('\n')}\n${orphans(data, clock)}`;
  const health = options.health ? dataHealth(options.health, clock) : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLES}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p class="muted">Where the card spend goes and what it earns in PLU.</p></header>
<main>
${body}
${health}
</main>
<footer class="muted">Generated ${escapeHtml(clock.instant(options.generatedAt.toISOString()))}${options.source ? ` from ${escapeHtml(options.source)}` : ''}. Rejected rewards are excluded from earnings.</footer>
</body>
</html>
`;
}

function headline(data: DashboardData): string {
  const spend = sumBy(data.categories, 'currency', 'spend');
  const value = sumBy(data.monthlyValue, 'currency', 'reward_value');
  const plu = data.monthlyPlu.reduce((total, row) => total + row.plu_earned, 0);
  const pending = data.pluStatus.find((row) => row.status === 'pending')?.plu_amount ?? 0;
  const available = data.pluStatus.find((row) => row.status === 'available')?.plu_amount ?? 0;
  const spendGbp = spend.get('GBP') ?? 0;
  const rate = spendGbp > 0 ? (value.get('GBP') ?? 0) / spendGbp : null;
  const cards = [
    ['Total spend', moneyList(spend)],
    ['Rewards earned', `${formatPlu(plu)} <small>${moneyList(value)}</small>`],
    ['Effective rate (GBP)', rate === null ? '–' : `${(rate * 100).toFixed(2)}%`],
    ['Pending PLU', `${formatPlu(pending)} <small>${formatPlu(available)} available</small>`],
  ];
  return `<section class="cards">${cards.map(([label, value]) => `<div class="card" data-figure="${escapeHtml(label)}"><div class="label">${label}</div><div class="value">${value}</div></div>`).join('')}</section>`;
}

/** Dates and times of the reporting time zone, read from Intl (never from the machine's zone). */
interface ZonedClock {
  timeZone: string;
  /** `YYYY-MM-DD` of an instant. */
  day: (instant: Date) => string;
  /** `YYYY-MM-DD HH:mm <zone>` of an ISO instant, or – for none. */
  instant: (iso: string | null | undefined) => string;
}

function zonedClock(timeZone: string): ZonedClock {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    throw new ViewSchemaError(`Not a time zone name: ${JSON.stringify(timeZone)}. Give an IANA name such as UTC or Europe/London.`);
  }
  const parts = (instant: Date) => Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  const day = (instant: Date) => {
    const p = parts(instant);
    return `${p['year']}-${p['month']}-${p['day']}`;
  };
  return {
    timeZone,
    day,
    instant: (iso) => {
      if (!iso || Number.isNaN(Date.parse(iso))) return iso ?? '–';
      const p = parts(new Date(iso));
      return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']} ${timeZone}`;
    },
  };
}

/**
 * The current month of the reporting time zone, when the page is made before its last day, is month to date:
 * labelled so, since its bars are not comparable with whole months.
 */
function monthLabeller(generatedAt: Date, clock: ZonedClock): { label: (month: string) => string; partial: (months: string[]) => string } {
  const today = clock.day(generatedAt);
  const current = today.slice(0, 7);
  const dayOfMonth = Number(today.slice(8, 10));
  const lastDay = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 0)).getUTCDate();
  const isPartial = dayOfMonth < lastDay;
  const label = (month: string) => (isPartial && month === current ? `${month} (to date)` : month);
  const partial = (months: string[]) =>
    isPartial && months.includes(current) ? ` ${current} is month to date (${dayOfMonth} of ${lastDay} days, ${clock.timeZone}).` : '';
  return { label, partial };
}

/** One chart per currency, stacked, each with its own axis: amounts in two currencies are never added or compared. */
function perCurrency<T extends { currency: string }>(rows: readonly T[], part: (currency: string, rows: T[]) => object): TopLevelSpec {
  const currencies = [...new Set(rows.map((row) => row.currency))].sort();
  const parts = currencies.map((currency) =>
    part(
      currency,
      rows.filter((row) => row.currency === currency),
    ),
  );
  return (parts.length === 1 ? parts[0] : { vconcat: parts, spacing: 28 }) as TopLevelSpec;
}

/**
 * Days are the views' `YYYY-MM-DD` of the reporting time zone; drawn on a UTC scale they keep that label whatever
 * the time zone of the machine that draws them.
 */
const utcDay = { type: 'temporal', timeUnit: 'utcyearmonthdate', scale: { type: 'utc' }, title: null };

function charts(data: DashboardData, generatedAt: Date, clock: ZonedClock): Chart[] {
  const months = monthLabeller(generatedAt, clock);
  const monthly = data.monthlyPlu.map((row) => ({ ...row, month: months.label(row.reward_month) }));
  const prices = data.monthlyPrice.map((row) => ({ ...row, month: months.label(row.reward_month) }));
  const values = data.monthlyValue.map((row) => ({ ...row, month: months.label(row.reward_month) }));
  const monthAxis = { field: 'month', type: 'ordinal', title: null, axis: { labelAngle: -45, labelLimit: 200 } };
  const partial = months.partial(data.monthlyPlu.map((row) => row.reward_month));
  return [
    {
      id: 'monthly-plu',
      title: 'PLU earned per month',
      caption: `Bars: PLU earned (rejected excluded). Lines: mean PLU price in each currency.${partial}`,
      spec: monthly.length
        ? (width) => ({
            width,
            height: H,
            encoding: { x: monthAxis },
            layer: [
              {
                data: { values: monthly },
                mark: { type: 'bar', color: '#4c6ef5', opacity: 0.85 },
                encoding: { y: { field: 'plu_earned', type: 'quantitative', title: 'PLU earned' } },
              },
              {
                data: { values: prices },
                mark: { type: 'line', point: true },
                encoding: {
                  y: { field: 'mean_plu_price', type: 'quantitative', title: 'PLU price' },
                  color: { field: 'currency', type: 'nominal', title: 'Price in', scale: { range: ['#e67700', '#7950f2', '#15aabf'] } },
                },
              },
            ],
            resolve: { scale: { y: 'independent', color: 'independent' } },
          })
        : undefined,
    },
    {
      id: 'monthly-value',
      title: 'Reward value per month',
      caption: `Fiat value of the rewards, side by side per currency (never added).${months.partial(data.monthlyValue.map((row) => row.reward_month))}`,
      spec: values.length
        ? (width) => ({
            width,
            height: H,
            data: { values },
            mark: 'bar',
            encoding: {
              x: monthAxis,
              y: { field: 'reward_value', type: 'quantitative', title: 'Reward value (own currency)' },
              color: { field: 'currency', type: 'nominal', title: 'Currency' },
              xOffset: { field: 'currency' },
            },
          })
        : undefined,
    },
    {
      id: 'effective-rate',
      title: 'Effective reward rate',
      caption: `Reward value over the spend it was earned on, per month and currency.${months.partial(data.monthlyValue.map((row) => row.reward_month))}`,
      spec: values.some((row) => row.effective_reward_rate !== null)
        ? (width) => ({
            width,
            height: H,
            data: { values: values.filter((row) => row.effective_reward_rate !== null) },
            mark: { type: 'line', point: true },
            encoding: {
              x: monthAxis,
              y: { field: 'effective_reward_rate', type: 'quantitative', title: 'Rate', axis: { format: '.1%' } },
              color: { field: 'currency', type: 'nominal', title: 'Currency' },
            },
          })
        : undefined,
    },
    {
      id: 'top-merchants',
      title: 'Top merchants by spend',
      caption: 'Card purchases, one chart per currency; each bar says on hover the PLU that merchant earned.',
      spec: data.merchants.length
        ? (width) =>
            perCurrency(data.merchants, (currency, rows) => ({
              title: { text: currency, anchor: 'start', fontSize: 14 },
              // The labels share the drawing's width with the bars, so the whole is drawn at the page's scale.
              width: Math.round(width * 0.55),
              height: Math.max(120, rows.length * 24),
              data: { values: rows.map((row) => ({ ...row, plu: formatPlu(row.plu_earned) })) },
              mark: { type: 'bar', color: '#12b886' },
              encoding: {
                y: { field: 'merchant', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: Math.round(width * 0.4) } },
                x: { field: 'spend', type: 'quantitative', title: `Spend (${currency})` },
                // The hover title: the bar's merchant and spend, and the PLU it earned.
                tooltip: [{ field: 'plu', title: 'PLU earned' }],
              },
            }))
        : undefined,
    },
    {
      id: 'categories',
      title: 'Spend by category',
      caption: 'Categories come from the statement text of each merchant; one chart per currency.',
      spec: data.categories.length
        ? (width) => {
            // Room for the longest category name whole (a category is a word or two), the bars get the rest.
            const longest = Math.max(...data.categories.map((row) => row.merchant_category.length));
            const labels = Math.min(Math.round(width * 0.6), Math.ceil(longest * 11.5));
            return perCurrency(data.categories, (currency, rows) => ({
              title: { text: currency, anchor: 'start', fontSize: 14 },
              width: Math.max(80, width - labels - 24),
              height: Math.max(100, rows.length * 26),
              data: { values: rows },
              mark: { type: 'bar', color: '#4c6ef5' },
              encoding: {
                y: { field: 'merchant_category', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: labels } },
                x: { field: 'spend', type: 'quantitative', title: `Spend (${currency})` },
              },
            }));
          }
        : undefined,
    },
    {
      id: 'plu-status',
      title: 'Pending vs available PLU',
      caption: 'Rewards vest after a holding period; rejected ones never do.',
      spec: data.pluStatus.length
        ? (width) => ({
            width,
            height: 120,
            data: { values: data.pluStatus },
            mark: 'bar',
            encoding: {
              y: { field: 'status', type: 'nominal', title: null, sort: ['available', 'pending', 'rejected'] },
              x: { field: 'plu_amount', type: 'quantitative', title: 'PLU' },
              color: {
                field: 'status',
                type: 'nominal',
                legend: null,
                scale: { domain: ['available', 'pending', 'rejected'], range: ['#12b886', '#fab005', '#fa5252'] },
              },
            },
          })
        : undefined,
    },
    {
      id: 'daily-price',
      title: 'PLU price over time',
      caption: `Fiat per PLU at award time, per day (${clock.timeZone}) and currency: the daily mean, with a band from min to max.`,
      spec: data.dailyPrice.length
        ? (width) => ({
            width,
            height: H,
            data: { values: data.dailyPrice },
            encoding: { x: { field: 'day', ...utcDay }, color: { field: 'currency', type: 'nominal', title: 'Currency' } },
            layer: [
              {
                mark: { type: 'area', opacity: 0.15 },
                encoding: { y: { field: 'min_plu_price', type: 'quantitative', title: 'PLU price' }, y2: { field: 'max_plu_price' } },
              },
              { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { y: { field: 'mean_plu_price', type: 'quantitative' } } },
            ],
          })
        : undefined,
    },
  ] as Chart[];
}

/** Phones get their own narrower drawing (readable text), not the desktop one shrunk. */
const NARROW_WIDTH = 260;

async function renderChart(chart: Chart): Promise<string> {
  let inner = '<p class="empty-chart">No data for this chart yet.</p>';
  if (chart.spec) {
    const [wide, narrow] = await Promise.all([chartSvg(chart.spec(W)), chartSvg(chart.spec(NARROW_WIDTH))]);
    inner = `<div class="wide">${wide}</div><div class="narrow">${narrow}</div>`;
  }
  return `<section class="chart" data-chart="${chart.id}" data-has-data="${chart.spec ? 'true' : 'false'}"><h2>${escapeHtml(chart.title)}</h2><p class="muted">${escapeHtml(chart.caption)}</p>${inner}</section>`;
}

function orphans(data: DashboardData, clock: ZonedClock): string {
  const { count, plu, latest } = data.withoutTransaction;
  const rows = latest
    .map(
      (row) =>
        `<tr><td class="nowrap">${escapeHtml(Number.isNaN(Date.parse(row.created_at)) ? row.created_at.slice(0, 10) : clock.day(new Date(row.created_at)))}</td><td>${escapeHtml(row.reward_type ?? '–')}</td><td>${escapeHtml(row.reference_type ?? '–')}${row.reference_id ? ` <code>${escapeHtml(row.reference_id)}</code>` : ''}</td><td class="num">${formatPlu(row.plu_amount)}</td></tr>`,
    )
    .join('');
  const shown =
    latest.length < count
      ? ` The newest ${latest.length} are listed; ${count - latest.length} more are in the view v_rewards_without_transaction.`
      : '';
  return `<section class="chart" data-table="rewards-without-transaction"><h2>Rewards without a transaction</h2><p class="muted">${count} reward(s), ${formatPlu(plu)}: referrals, or purchases older than the pulled history. Kept, not dropped.${shown}</p>${
    count
      ? `<table><thead><tr><th>Created</th><th>Type</th><th>Refers to</th><th class="num">PLU</th></tr></thead><tbody>${rows}</tbody></table>`
      : ''
  }</section>`;
}

/**
 * Data health: how fresh the data is (newest rows, last successful run), what the last reconciliation found and
 * did, the rows quarantined by reason, and the runs of the last 30 days with their outcome.
 */
function dataHealth(health: DataHealthView, clock: ZonedClock): string {
  const instant = clock.instant;
  const reconciliation = health.lastReconciliation;
  const reconciled = reconciliation
    ? [
        `warehouse against lake at ${instant(reconciliation.at)}: ${reconciliation.ledgerRuns} run(s) in its ledger`,
        reconciliation.runsReplayed ? `${reconciliation.runsReplayed} run(s) replayed` : 'nothing to replay',
        reconciliation.factsRederived ? 'reward_facts derived again' : '',
        reconciliation.sourceMonthsChecked
          ? reconciliation.sourceMonthsDiffering
            ? `source: ${reconciliation.sourceMonthsDiffering} month(s) differed, pulled again: ${reconciliation.monthsRepulled.join(', ') || 'none'}; left to verify: ${reconciliation.monthsLeftToVerify.join(', ') || 'none'}`
            : 'source: counts matched'
          : 'source: not checked yet (first run)',
        reconciliation.rewardMonthsDiffering === undefined
          ? ''
          : reconciliation.rewardMonthsDiffering
            ? `rewards ledger: ${reconciliation.rewardMonthsDiffering} month(s) differed, landed again: ${reconciliation.rewardMonthsLanded?.join(', ') || 'none'}; left to verify: ${reconciliation.rewardMonthsLeftToVerify?.join(', ') || 'none'}`
            : 'rewards ledger: matched',
      ]
        .filter(Boolean)
        .join('; ')
    : 'no load yet';
  const verification = health.lastVerification
    ? `${health.lastVerification.ok ? 'all checks agreed' : `${health.lastVerification.checksFailed} check(s) failed`} (${instant(health.lastVerification.at)})`
    : 'none in this lake yet (local-runner verify prints its own report)';
  const facts = [
    ['Newest transaction', instant(health.newest.transaction)],
    ['Newest reward change', instant(health.newest.rewardUpdate)],
    [
      'Last successful run',
      health.lastSuccessfulRun ? `${instant(health.lastSuccessfulRun.finishedAt)} (${health.lastSuccessfulRun.mode})` : '–',
    ],
    ['Last reconciliation', reconciled],
    ['Last verification', verification],
  ];
  const quarantine = health.quarantined.length
    ? `<table><thead><tr><th>Dataset</th><th>Reason</th><th class="num">Rows</th></tr></thead><tbody>${health.quarantined
        .map((row) => `<tr><td>${escapeHtml(row.dataset)}</td><td>${escapeHtml(row.reason)}</td><td class="num">${row.rows}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="muted">No row was quarantined.</p>';
  const runs = health.recentRuns.length
    ? `<table><thead><tr><th>Started</th><th>Mode</th><th>Outcome</th><th class="num">Transactions</th><th class="num">Rewards</th></tr></thead><tbody>${health.recentRuns
        .map(
          (run) =>
            `<tr data-status="${escapeHtml(run.status)}"><td class="nowrap">${escapeHtml(instant(run.startedAt))}</td><td>${escapeHtml(run.mode)}</td><td>${escapeHtml(run.status)}${run.error ? ` <small>${escapeHtml(run.error)}</small>` : ''}</td><td class="num">${run.transactions}</td><td class="num">${run.rewards}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="muted">No run in the last 30 days.</p>';
  return `<section class="chart" data-section="data-health"><h2>Data health</h2><dl>${facts
    .map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('')}</dl><h3>Quarantined rows by reason</h3>${quarantine}<h3>Runs of the last 30 days</h3>${runs}</section>`;
}

function emptyState(): string {
  return `<section class="empty" data-empty="true"><h2>No data yet</h2><p>The warehouse has no rewards or transactions. Run the pipeline (<code>npm start</code>), then open this page again.</p></section>`;
}

function sumBy<T extends Record<string, unknown>>(rows: readonly T[], key: keyof T, value: keyof T): Map<string, number> {
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(String(row[key]), (totals.get(String(row[key])) ?? 0) + Number(row[value]));
  return totals;
}

function moneyList(totals: Map<string, number>): string {
  if (totals.size === 0) return '–';
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([currency, amount]) => escapeHtml(formatMoney(amount, currency)))
    .join(' · ');
}

export function formatMoney(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

export function formatPlu(amount: number): string {
  return `${amount.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} PLU`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string);
}

const STYLES = `
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f7fb}
header,main,footer{max-width:1100px;margin:0 auto;padding:16px}
h1{margin:8px 0 0;font-size:1.6rem}h2{margin:0 0 4px;font-size:1.05rem}.muted{color:#616e7c;font-size:.9rem;margin:4px 0 12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;margin-bottom:16px}
.card{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 1px 3px rgba(15,23,42,.08)}
.card .label{color:#616e7c;font-size:.85rem}.card .value{font-size:1.35rem;font-weight:600;margin-top:4px}.card small{display:block;font-size:.8rem;font-weight:400;color:#616e7c}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:16px}main>.cards,main>.empty{grid-column:1/-1}
.chart{background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 3px rgba(15,23,42,.08);min-width:0}
.chart svg{width:100%;height:auto;display:block}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;font-size:.85rem}dt{color:#5c677d}dd{margin:0}table{width:100%;border-collapse:collapse;font-size:.85rem;display:block;overflow-x:auto}th,td{text-align:left;padding:6px 4px;border-bottom:1px solid #e5e9f0}.num{text-align:right;white-space:nowrap}.nowrap{white-space:nowrap}
.empty{background:#fff;border-radius:12px;padding:32px;text-align:center}.empty-chart{color:#616e7c;padding:40px 0;text-align:center}
code{background:#eef2f7;padding:2px 6px;border-radius:4px}
.narrow{display:none}
@media (max-width:560px){h1{font-size:1.3rem}.card .value{font-size:1.15rem}.wide{display:none}.narrow{display:block}}
`;
