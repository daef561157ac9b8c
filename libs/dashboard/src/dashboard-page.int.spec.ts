import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchTestChromium } from '../test/test-chromium';
import { fixtureWarehouse } from '../test/fixture-warehouse';
import { loadDashboardData } from './dashboard-data';
import { renderDashboardHtml } from './dashboard-html';

/** The part of an SVG element the assertions read (the tests compile without the DOM library). */
type SvgLike = { getBoundingClientRect(): { width: number }; querySelectorAll(selector: string): { length: number } };

const OUTPUT = join(__dirname, '..', 'test-output');
jest.setTimeout(60_000);

// The generated page in real headless Chromium (from npm, driven by playwright-core).
describe('the dashboard page in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let page: string;

  beforeAll(async () => {
    browser = await launchTestChromium();
    dir = await mkdtemp(join(tmpdir(), 'dashboard-page-'));
    const db = await fixtureWarehouse(dir);
    const data = await loadDashboardData(async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
    page = join(dir, 'dashboard.html');
    await writeFile(page, await renderDashboardHtml(data, { generatedAt: new Date('2026-11-28T12:00:00Z'), source: 'fixtures' }));
    await mkdir(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['desktop', 1280, 900],
    ['phone', 390, 844],
    ['small-phone', 375, 667],
  ])('renders every chart with data and makes no network request (%s)', async (name, width, height) => {
    const context = await browser.newContext({ viewport: { width, height } });
    const tab = await context.newPage();
    const requests: string[] = [];
    tab.on('request', (request) => requests.push(request.url()));
    await tab.goto(pathToFileURL(page).href);
    const charts = await tab.$$eval('section[data-chart]', (sections) =>
      sections.map((section) => {
        const svgs = Array.from(section.querySelectorAll('svg') as unknown as ArrayLike<SvgLike>);
        return {
          id: section.getAttribute('data-chart'),
          // Only the drawing shown at this width (wide or narrow) counts.
          marks: svgs
            .filter((svg) => svg.getBoundingClientRect().width > 0)
            .reduce((count, svg) => count + svg.querySelectorAll('path, rect, line, circle').length, 0),
          width: Math.max(0, ...svgs.map((svg) => svg.getBoundingClientRect().width)),
          visible: svgs.filter((svg) => svg.getBoundingClientRect().width > 0).length,
        };
      }),
    );
    expect(charts.map((chart) => chart.id)).toEqual([
      'monthly-plu',
      'monthly-value',
      'effective-rate',
      'top-merchants',
      'categories',
      'plu-status',
      'daily-price',
    ]);
    for (const chart of charts) {
      expect(chart.marks).toBeGreaterThan(3);
      expect(chart.width).toBeGreaterThan(0);
      expect(chart.width).toBeLessThanOrEqual(width);
      expect(chart.visible).toBe(1);
    }
    // Text in the charts at its drawn size: the computed font size times the scale its SVG is drawn at.
    const smallestText = (await tab.evaluate(`Math.min(...Array.from(document.querySelectorAll('section[data-chart] svg'))
      .filter((svg) => svg.getBoundingClientRect().width > 0)
      .flatMap((svg) => Array.from(svg.querySelectorAll('text')).map((text) =>
        parseFloat(getComputedStyle(text).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)))`)) as number;
    expect(smallestText).toBeGreaterThanOrEqual(11);
    // Every drawn value says what it is on hover (a title, no script).
    const titled = (await tab.evaluate(
      `document.querySelectorAll('section[data-chart] svg [role="graphics-symbol"] > title').length`,
    )) as number;
    expect(titled).toBeGreaterThan(20);
    const overflow = await tab.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow as number).toBeLessThanOrEqual(0);
    expect(await tab.textContent('[data-figure="Total spend"]')).toContain('£');
    expect(requests).toEqual([pathToFileURL(page).href]);
    await tab.screenshot({ path: join(OUTPUT, `dashboard-${name}.png`), fullPage: true });
    await context.close();
  });
});
