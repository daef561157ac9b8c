import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DASHBOARD_VIEWS, REPORTING_VIEWS } from '@org/dashboard';
import { md5PasswordHash, RedshiftWarehouse } from './redshift-warehouse';

// The reporting user's privileges proven on a real PostgreSQL engine (PGlite: PostgreSQL compiled to WebAssembly,
// run by test/pglite-run.mjs), whose privilege model for regular views Redshift follows: a view is read with its
// owner's rights, so SELECT on a view needs no right on what it reads, and USAGE on the schema does not open its
// tables. The statements are the adapter's own (the user made from its hashed password, then its grants). What
// differs from Redshift: the view bodies here are stand-ins of the same names and nesting (Redshift's functions,
// e.g. CONVERT_TIMEZONE, are not PostgreSQL's; their SQL runs on DuckDB in the dashboard's tests), and late-binding
// views (WITH NO SCHEMA BINDING), which Redshift checks with the reader's rights, are not used by this pipeline.
describe('the reporting user on PostgreSQL (PGlite)', () => {
  const password = 'Looker-Studio-Passw0rd';
  const warehouse = new RedshiftWarehouse(new RedshiftDataClient({ region: 'eu-west-2' }), {
    target: { workgroupName: 'rewards', database: 'dev' },
    iamRoleArn: 'arn:aws:iam::123456789012:role/copy',
    locate: (key) => `s3://bucket/${key}`,
    reportingUser: { name: 'looker_studio', password },
  });
  const setup = [
    `CREATE SCHEMA rewards;
     CREATE TABLE rewards.transactions (transaction_id text, transaction_amount numeric, currency text);
     CREATE TABLE rewards.rewards (reward_id text, plu_amount numeric);
     CREATE TABLE rewards.reward_facts (reward_id text, plu_amount numeric, currency text);
     CREATE TABLE rewards.load_ledger (seq bigint, run_id text);
     INSERT INTO rewards.reward_facts VALUES ('r1', 1.5, 'GBP');`,
    // Stand-ins with the names and nesting of the real views: the dashboard's read the tables, the report views read them.
    ...DASHBOARD_VIEWS.map(
      (view) => `CREATE VIEW rewards."${view.name}" AS SELECT reward_id, plu_amount, currency FROM rewards.reward_facts`,
    ),
    ...REPORTING_VIEWS.map((view) => {
      const source = view.name.replace(/^report_/, 'v_');
      const from = DASHBOARD_VIEWS.some((each) => each.name === source) ? `rewards."${source}"` : 'rewards.reward_facts';
      return `CREATE VIEW rewards."${view.name}" AS SELECT * FROM ${from}`;
    }),
    ...warehouse.reportingUserStatements(false),
    ...warehouse.viewBatchStatements().filter((sql) => sql.startsWith('GRANT')),
  ];
  const asReporter = (sql: string) => ({ role: 'looker_studio', sql });
  const checks = [
    { sql: "SELECT rolpassword FROM pg_authid WHERE rolname = 'looker_studio'" },
    ...REPORTING_VIEWS.map((view) => asReporter(`SELECT * FROM rewards."${view.name}"`)),
    ...['transactions', 'rewards', 'reward_facts', 'load_ledger', 'v_monthly_plu'].map((table) =>
      asReporter(`SELECT * FROM rewards.${table}`),
    ),
    asReporter("INSERT INTO rewards.reward_facts VALUES ('r2', 1, 'GBP')"),
    asReporter('DELETE FROM rewards.report_monthly_plu'),
    asReporter('CREATE TABLE rewards.mine (x int)'),
  ];
  let results: { rows?: Record<string, unknown>[]; error?: string }[];

  beforeAll(() => {
    const script = join(__dirname, '..', 'test', 'pglite-run.mjs');
    results = JSON.parse(execFileSync(process.execPath, [script], { input: JSON.stringify({ setup, checks }), encoding: 'utf8' }));
  });

  it('stores only the hash the adapter sent, which is the md5 of password and user name', () => {
    expect(results[0].rows?.[0]?.['rolpassword']).toBe(md5PasswordHash(password, 'looker_studio'));
  });

  it('reads every report view, including those that read a dashboard view it has no right on', () => {
    const reads = results.slice(1, 1 + REPORTING_VIEWS.length);
    expect(reads.map((result, i) => [REPORTING_VIEWS[i].name, result.error ?? 'ok'])).toEqual(
      REPORTING_VIEWS.map((view) => [view.name, 'ok']),
    );
    expect(reads[0].rows).toHaveLength(1);
  });

  it('is refused the tables, the dashboard views and any write', () => {
    const refused = results.slice(1 + REPORTING_VIEWS.length);
    expect(refused).toHaveLength(8);
    for (const result of refused) expect(result.error).toMatch(/permission denied/);
  });
});
