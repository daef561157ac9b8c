import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fixtureWarehouse } from '../test/fixture-warehouse';
import { LOOKML_DATA_TESTS, lookmlProject, MONEY_COLUMNS } from './lookml';

// A parser someone else maintains reads every file; it checks grammar, so the parameters are held to the ones
// each kind of LookML object takes, and every field's SQL is run against a warehouse.
const lookmlParser = require('lookml-parser') as { parse(text: string): Record<string, unknown> };

type Node = Record<string, unknown>;
const ALLOWED: Record<string, readonly string[]> = {
  model: ['connection', 'include', 'explore', 'test'],
  view: ['sql_table_name', 'label', 'dimension', 'dimension_group', 'measure'],
  dimension: ['primary_key', 'type', 'sql', 'description'],
  dimension_group: ['type', 'timeframes', 'datatype', 'sql', 'description'],
  measure: ['type', 'sql', 'value_format_name', 'required_fields', 'description'],
  explore: ['label', 'description', 'join'],
  join: ['type', 'relationship', 'sql_on'],
  test: ['explore_source', 'assert'],
};
const own = (node: Node) => Object.keys(node).filter((key) => !key.startsWith('$'));
const children = (node: Node, kind: string) => Object.entries((node[kind] ?? {}) as Record<string, Node>);

describe('the LookML project', () => {
  const files = lookmlProject({ connection: 'rewards_warehouse' });
  const parsed = Object.fromEntries(
    Object.entries(files)
      .filter(([path]) => path.endsWith('.lkml'))
      .map(([path, text]) => [path, lookmlParser.parse(text)]),
  );
  const views = Object.values(parsed).flatMap((file) => children(file, 'view'));
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookml-'));
    db = await fixtureWarehouse(dir);
  });
  afterAll(async () => {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });
  const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();

  it('parses, file by file, and uses only the parameters each kind of object takes', () => {
    expect(Object.keys(files).sort()).toEqual([
      'dashboards/card_rewards.dashboard.lookml',
      'rewards.model.lkml',
      'views/reward_facts.view.lkml',
      'views/rewards.view.lkml',
      'views/transactions.view.lkml',
      'views/v_monthly_reward_value.view.lkml',
      'views/v_plu_status.view.lkml',
    ]);
    const unknown: string[] = [];
    const check = (kind: string, name: string, node: Node) =>
      own(node)
        .filter((key) => !ALLOWED[kind]?.includes(key))
        .forEach((key) => unknown.push(`${kind} ${name}: ${key}`));
    const model = parsed['rewards.model.lkml'];
    check('model', 'rewards', model);
    for (const [name, explore] of children(model, 'explore')) {
      check('explore', name, explore);
      for (const [joined, join] of children(explore, 'join')) check('join', joined, join);
    }
    for (const [name, test] of children(model, 'test')) check('test', name, test);
    for (const [name, view] of views) {
      check('view', name, view);
      for (const kind of ['dimension', 'dimension_group', 'measure'])
        for (const [field, node] of children(view, kind)) check(kind, `${name}.${field}`, node);
    }
    expect(unknown).toEqual([]);
    expect(views.map(([name]) => name).sort()).toEqual([
      'reward_facts',
      'rewards',
      'transactions',
      'v_monthly_reward_value',
      'v_plu_status',
    ]);
  });

  it("runs every field's SQL against the warehouse, so a renamed column fails here", async () => {
    const failures: string[] = [];
    for (const [name, view] of views) {
      const table = String(view['sql_table_name']).trim();
      const dimensionSql = new Map<string, string>();
      for (const kind of ['dimension', 'dimension_group'])
        for (const [field, node] of children(view, kind)) dimensionSql.set(field, String(node['sql']).replace(/\$\{TABLE\}/g, 't'));
      const expand = (sql: string) =>
        sql.replace(/\$\{(\w+)\}/g, (_, field: string) => dimensionSql.get(field) ?? `missing_field_${field}`);
      const probes = [
        ...[...dimensionSql].map(([field, sql]) => [field, `SELECT ${sql} AS v FROM ${table} AS t LIMIT 3`]),
        ...children(view, 'measure')
          .filter(([, node]) => node['sql'] !== undefined)
          .map(([field, node]) => [field, `SELECT SUM(${expand(String(node['sql']))}) AS v FROM ${table} AS t`]),
      ];
      for (const [field, sql] of probes)
        await rows(sql).catch((error: Error) => failures.push(`${name}.${field}: ${error.message.split('\n')[0]}`));
    }
    expect(failures).toEqual([]);
  });

  it('requires the currency field on every money measure, so no tile adds two currencies', () => {
    const money: string[] = [];
    for (const [name, view] of views)
      for (const [field, node] of children(view, 'measure')) {
        const column = /\$\{(\w+)\}/.exec(String(node['sql'] ?? ''))?.[1] ?? '';
        const currency = MONEY_COLUMNS[name]?.[column];
        if (!currency) continue;
        money.push(`${name}.${field}`);
        expect([`${name}.${field}`, node['required_fields']]).toEqual([`${name}.${field}`, [currency]]);
      }
    expect(money.length).toBeGreaterThanOrEqual(5);
    // The dashboard's money tiles pivot on the currency they require.
    const dashboard = JSON.parse(files['dashboards/card_rewards.dashboard.lookml']) as {
      elements: { fields: string[]; pivots?: string[] }[];
    }[];
    for (const tile of dashboard[0].elements.filter((element) => element.fields.some((field) => /\.total_(?!plu)/.test(field))))
      expect(tile.pivots?.some((pivot) => pivot.endsWith('.currency'))).toBe(true);
  });

  it("the explore's join holds as SQL (many rewards to one transaction), and so do the data tests' assertions", async () => {
    const model = parsed['rewards.model.lkml'];
    const join = (children(model, 'explore').find(([name]) => name === 'reward_facts')?.[1]['join'] as Record<string, Node>)[
      'transactions'
    ];
    expect(join).toMatchObject({ type: 'left_outer', relationship: 'many_to_one' });
    const on = String(join['sql_on'])
      .replace('${reward_facts.reference_id}', 'rf."reference_id"')
      .replace('${transactions.transaction_id}', 'tx."transaction_id"');
    expect(
      await rows(
        `SELECT rf.reward_id FROM "reward_facts" AS rf JOIN "transactions" AS tx ON ${on} GROUP BY rf.reward_id HAVING COUNT(*) > 1`,
      ),
    ).toEqual([]);
    expect((await rows(`SELECT COUNT(*)::INT AS n FROM "reward_facts" AS rf JOIN "transactions" AS tx ON ${on}`))[0]['n']).toBeGreaterThan(
      0,
    );
    expect(children(model, 'test').map(([name]) => name)).toEqual(LOOKML_DATA_TESTS.map((test) => test.name));
    for (const test of LOOKML_DATA_TESTS)
      expect([test.name, (await rows(test.holds((name) => `"${name}"`)))[0]['ok']]).toEqual([test.name, true]);
  });

  it('names the connection and schema it is given, and refuses names it cannot write safely', () => {
    const redshift = lookmlProject({ connection: 'analytics', schema: 'rewards' });
    expect(redshift['rewards.model.lkml']).toContain('connection: "analytics"');
    expect(redshift['views/transactions.view.lkml']).toContain('sql_table_name: "rewards"."transactions" ;;');
    expect(() => lookmlProject({ connection: 'a"b' })).toThrow('Not a Looker connection name');
    expect(() => lookmlProject({ schema: 'x"; drop' })).toThrow('Not a plain schema name');
    expect(() => lookmlProject({ timeZone: 'CET-ish' })).toThrow('Not a time zone name');
  });

  it('runs every tile in the reporting time zone, and each tile names only fields its views declare', () => {
    const project = lookmlProject({ timeZone: 'Europe/London' });
    const dashboard = JSON.parse(project['dashboards/card_rewards.dashboard.lookml']) as {
      elements: { fields: string[]; query_timezone: string }[];
    }[];
    expect(new Set(dashboard[0].elements.map((tile) => tile.query_timezone))).toEqual(new Set(['Europe/London']));
    const declared = new Set<string>();
    for (const [name, view] of views) {
      for (const [field] of children(view, 'dimension')) declared.add(`${name}.${field}`);
      for (const [field] of children(view, 'measure')) declared.add(`${name}.${field}`);
      for (const [group, node] of children(view, 'dimension_group'))
        for (const timeframe of node['timeframes'] as string[]) declared.add(`${name}.${group}_${timeframe}`);
    }
    const named = dashboard[0].elements.flatMap((tile) => tile.fields);
    expect(named.filter((field) => !declared.has(field))).toEqual([]);
  });
});
