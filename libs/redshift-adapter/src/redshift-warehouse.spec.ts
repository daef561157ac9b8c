import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { quoteLiteral, REDSHIFT_DIALECT, redshiftSqlOnDuckDb } from '@org/sql-dialect';
import { DASHBOARD_VIEWS, DATA_HEALTH_TABLES, REPORTING_VIEWS, RETIRED_VIEWS } from '@org/dashboard';
import { createHash } from 'node:crypto';
import { expectedMonthFigures, expectedWarehouseParquet, LOAD_SEQUENCE, tableDifferencesSql } from '@org/pipeline/testing';
import { DATASET_KEYS, ledgerDigest, transformRun } from '@org/rewards-transform';
import {
  LedgerSummary,
  ledgerEntryOf,
  ledgerSelectSql,
  rewardIdsUpdatedBetweenSql,
  ledgerMonthsOf,
  ledgerMonthsSelectSql,
  monthFiguresOf,
  monthFiguresScanSql,
  tableCountsSql,
} from '@org/pipeline';
import {
  checkBatchWithinLimits,
  DATA_API_LIMITS,
  DataApiLimitError,
  RedshiftStatementError,
  RedshiftWarehouse,
} from './redshift-warehouse';

/** Statements kept free in the largest batch for what later work adds to the load's transaction. */
const LOAD_BATCH_RESERVE = 5;
const REWARDS_TABLE = '"rewards"."rewards"';

const redshift = mockClient(RedshiftDataClient);
const ROLE = 'arn:aws:iam::123456789012:role/rewards-redshift-copy';
const warehouse = (target: ConstructorParameters<typeof RedshiftWarehouse>[1]['target'] = { workgroupName: 'rewards', database: 'dev' }) =>
  new RedshiftWarehouse(new RedshiftDataClient({ region: 'eu-west-2' }), {
    target,
    iamRoleArn: ROLE,
    locate: (key) => `s3://data-bucket/${key}`,
    sleep: async () => undefined,
  });
const KEY = 'curated/rewards/ingest_date=2026-11-28/run=r1/part-00000.parquet';
const TX_KEY = 'curated/transactions/ingest_date=2026-11-28/run=r1/part-00000.parquet';
const RUN = { transactions: [TX_KEY], rewards: [KEY] };
const RUN_FOLDER = (dataset: string) => `curated/${dataset}/ingest_date=2026-11-28/run=r1/`;
const parts = (dataset: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${RUN_FOLDER(dataset)}part-${String(i).padStart(5, '0')}.parquet`);

describe('RedshiftWarehouse', () => {
  beforeEach(() => {
    redshift.reset();
    redshift.on(ListStatementsCommand).resolves({ Statements: [] });
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'batch-1' });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'count-1' });
    redshift
      .on(DescribeStatementCommand, { Id: 'batch-1' })
      .resolvesOnce({ Status: 'STARTED' })
      .resolves({
        Status: 'FINISHED',
        SubStatements: [
          { QueryString: `COPY "staging_transactions" FROM ...`, ResultRows: 30, Status: 'FINISHED', Id: 'batch-1:5' },
          { QueryString: `COPY "staging_rewards" FROM ...`, ResultRows: 42, Status: 'FINISHED', Id: 'batch-1:7' },
        ],
      });
    redshift.on(DescribeStatementCommand, { Id: 'count-1' }).resolves({ Status: 'FINISHED' });
    redshift.on(GetStatementResultCommand).resolves({
      ColumnMetadata: [{ name: 'transactions' }, { name: 'rewards' }, { name: 'reward_facts' }, { name: 'facts_without_transaction' }],
      Records: [[{ longValue: 29 }, { longValue: 40 }, { longValue: 40 }, { longValue: 3 }]],
    });
  });

  it("loads a run in one batch (one transaction): tables, staging, COPY ... FORMAT AS PARQUET, merge both, the affected facts, the dashboard's views; then Looker Studio's views in a batch of their own", async () => {
    await expect(warehouse().loadRun(RUN)).resolves.toEqual({
      staged: { transactions: 30, rewards: 42 },
      inTable: { transactions: 29, rewards: 40, reward_facts: 40 },
      factsWithoutTransaction: 3,
    });
    expect(redshift).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 2);
    const [input, views] = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input);
    expect([input.StatementName, views.StatementName]).toEqual(['rewards-pipeline-load', 'rewards-pipeline-report-views']);
    expect(views.Sqls?.filter((sql) => sql.startsWith('CREATE OR REPLACE VIEW "rewards".'))).toHaveLength(REPORTING_VIEWS.length);
    // The dashboard's views in the load's own transaction (a view whose columns change is dropped and made there), in
    // the reporting time zone (UTC unless told).
    expect(input.Sqls?.filter((sql) => sql.startsWith('CREATE OR REPLACE VIEW "rewards"."v_'))).toHaveLength(DASHBOARD_VIEWS.length);
    expect(input.Sqls?.find((sql) => sql.includes('"v_monthly_plu" AS'))).toContain(`CONVERT_TIMEZONE('UTC', created_at)`);
    expect(input).toMatchObject({ WorkgroupName: 'rewards', Database: 'dev' });
    const sqls = input.Sqls ?? [];
    expect(sqls[0]).toBe('CREATE SCHEMA IF NOT EXISTS "rewards"');
    // The three tables, the ledger and its figures per month.
    expect(sqls.filter((sql) => sql.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(5);
    expect(sqls.find((sql) => sql.includes('"rewards"."rewards" ('))).toContain('DISTKEY("reward_id") SORTKEY("created_at")');
    expect(sqls).toContain('CREATE TEMP TABLE "staging_rewards" (LIKE "rewards"."rewards")');
    expect(sqls).toContain(`COPY "staging_rewards" FROM 's3://data-bucket/${RUN_FOLDER('rewards')}' IAM_ROLE '${ROLE}' FORMAT AS PARQUET`);
    expect(sqls).toContain(
      `COPY "staging_transactions" FROM 's3://data-bucket/${RUN_FOLDER('transactions')}' IAM_ROLE '${ROLE}' FORMAT AS PARQUET`,
    );
    const at = (prefix: string) => sqls.findIndex((sql) => sql.startsWith(prefix));
    expect(at('INSERT INTO "rewards"."transactions"')).toBeGreaterThan(at('COPY'));
    expect(at('DELETE FROM "rewards"."transactions"')).toBeGreaterThan(at('COPY'));
    expect(at('INSERT INTO "rewards"."rewards"')).toBeGreaterThan(at('INSERT INTO "rewards"."transactions"'));
    expect(at('INSERT INTO "rewards"."reward_facts"')).toBeGreaterThan(at('INSERT INTO "rewards"."rewards"'));
    expect(at('CREATE OR REPLACE VIEW "rewards"."v_')).toBeGreaterThan(at('INSERT INTO "rewards"."reward_facts"'));
    expect(at('CREATE OR REPLACE VIEW "rewards"."report_')).toBe(-1);
    // It polled the load with backoff until FINISHED (STARTED, then FINISHED), then the views' batch (FINISHED).
    expect(redshift.commandCalls(DescribeStatementCommand).filter((call) => call.args[0].input.Id === 'batch-1')).toHaveLength(3);
  });

  it('makes the reporting user from its password as an MD5 hash only, and lets it read the report_* views and nothing else', async () => {
    const password = 'Looker-Studio-Passw0rd';
    const reporting = (user: { name: string; password?: string }) =>
      new RedshiftWarehouse(new RedshiftDataClient({ region: 'eu-west-2' }), {
        target: { workgroupName: 'rewards', database: 'dev' },
        iamRoleArn: ROLE,
        locate: (key) => `s3://data-bucket/${key}`,
        sleep: async () => undefined,
        reportingTimeZone: 'Europe/London',
        reportingUser: user,
      });
    // pg_user answers no such user (the mock's result has no rows for that query).
    redshift.on(GetStatementResultCommand, { Id: 'pg-user' }).resolves({ ColumnMetadata: [{ name: 'usename' }], Records: [] });
    redshift
      .on(ExecuteStatementCommand, { Sql: "SELECT usename FROM pg_user WHERE usename = 'looker_studio'" })
      .resolves({ Id: 'pg-user' });
    redshift.on(DescribeStatementCommand, { Id: 'pg-user' }).resolves({ Status: 'FINISHED', HasResultSet: true });
    await reporting({ name: 'looker_studio', password }).loadRun(RUN);
    const batches = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.StatementName)).toEqual([
      'rewards-pipeline-load',
      'rewards-pipeline-reporting-user',
      'rewards-pipeline-report-views',
    ]);
    // md5 of password + user name, computed here independently of the adapter.
    const hash = `md5${createHash('md5')
      .update(password + 'looker_studio')
      .digest('hex')}`;
    expect(batches[1].Sqls).toEqual([`CREATE USER "looker_studio" PASSWORD '${hash}'`]);
    expect(JSON.stringify(redshift.calls().map((call) => call.args[0].input))).not.toContain(password);
    const grants = (batches[2].Sqls ?? []).filter((sql) => sql.startsWith('GRANT'));
    expect(grants).toEqual([
      'GRANT USAGE ON SCHEMA "rewards" TO "looker_studio"',
      `GRANT SELECT ON ${REPORTING_VIEWS.map((view) => `"rewards"."${view.name}"`).join(', ')} TO "looker_studio"`,
    ]);
    expect(batches[0].Sqls?.find((sql) => sql.includes('"v_monthly_plu" AS'))).toContain(`CONVERT_TIMEZONE('Europe/London', created_at)`);
    // An existing user gets its password set again (a rotated secret takes effect); one an admin made is only granted.
    expect(reporting({ name: 'looker_studio', password }).reportingUserStatements(true)).toEqual([
      `ALTER USER "looker_studio" PASSWORD '${hash}'`,
    ]);
    expect(reporting({ name: 'looker_studio' }).reportingUserStatements(false)).toEqual([]);
    expect(() => reporting({ name: 'looker_studio', password: 'short' })).toThrow("breaks Redshift's rules");
    expect(() => reporting({ name: 'Looker"; drop', password })).toThrow('Not a plain reporting user name');
  });

  it('addresses a provisioned cluster with a database user or a secret', async () => {
    await warehouse({ clusterIdentifier: 'analytics', database: 'dev', dbUser: 'loader' }).loadRun(RUN);
    expect(redshift).toHaveReceivedCommandWith(BatchExecuteStatementCommand, {
      ClusterIdentifier: 'analytics',
      Database: 'dev',
      DbUser: 'loader',
    });
    redshift.resetHistory();
    await warehouse({
      clusterIdentifier: 'analytics',
      database: 'dev',
      secretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:rs',
    }).query('SELECT 1');
    expect(redshift).toHaveReceivedCommandWith(ExecuteStatementCommand, {
      SecretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:rs',
    });
  });

  it('fails with the failed statement, Redshift message and the COPY hint', async () => {
    redshift.on(DescribeStatementCommand, { Id: 'batch-1' }).resolves({
      Status: 'FAILED',
      Error: 'batch failed',
      SubStatements: [
        {
          Id: 'batch-1:4',
          Status: 'FAILED',
          QueryString: 'COPY "staging_rewards" FROM ...',
          Error: 'Spectrum Scan Error: incompatible Parquet schema',
        },
      ],
    });
    const error = await warehouse()
      .loadRun(RUN)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedshiftStatementError);
    expect((error as RedshiftStatementError).failedSql).toBe('COPY "staging_rewards" FROM ...');
    expect((error as Error).message).toContain('incompatible Parquet schema');
    expect((error as Error).message).toContain('sys_load_error_detail');
  });

  it('adds the columns the curated schema gained to tables an earlier version made, before COPY needs them', async () => {
    const older = [
      'reward_id',
      'plu_amount',
      'is_available',
      'reason',
      'created_at',
      'updated_at',
      'rebate_rate',
      'fiat_amount_rewarded',
      'currency',
      'reference_type',
      'reference_id',
    ];
    redshift
      .on(ExecuteStatementCommand)
      .callsFake((input: { Sql: string }) => ({ Id: input.Sql.includes('information_schema.columns') ? 'columns-1' : 'count-1' }));
    redshift.on(DescribeStatementCommand, { Id: 'columns-1' }).resolves({ Status: 'FINISHED' });
    redshift.on(GetStatementResultCommand, { Id: 'columns-1' }).resolves({
      ColumnMetadata: [{ name: 'table_name' }, { name: 'column_name' }],
      Records: older.map((name) => [{ stringValue: 'rewards' }, { stringValue: name }]),
    });
    await warehouse().loadRun(RUN);
    // A batch of its own, before the load's: the load's batch stays the same size however old the tables are.
    const [upgrade, load] = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input);
    expect(upgrade.StatementName).toBe('rewards-pipeline-upgrade');
    expect(upgrade.Sqls).toEqual(['ALTER TABLE "rewards"."rewards" ADD COLUMN "reward_type" VARCHAR(4096)']);
    expect(load.StatementName).toBe('rewards-pipeline-load');
    expect((load.Sqls ?? []).filter((sql) => sql.startsWith('ALTER TABLE'))).toHaveLength(0);
    expect(redshift.commandCalls(ExecuteStatementCommand)[0].args[0].input.Sql).toContain("table_schema = 'rewards'");
  });

  it('starts no load beside a batch of its own still running in Redshift (its Lambda died): WarehouseInUseError, retried by the state machine', async () => {
    redshift.on(ListStatementsCommand, { Status: 'STARTED' }).resolves({
      Statements: [{ Id: 'old-batch', StatementName: 'rewards-pipeline-load', Status: 'STARTED', QueryString: '', CreatedAt: new Date() }],
    });
    await expect(warehouse().loadRun(RUN)).rejects.toMatchObject({
      name: 'WarehouseInUseError',
      message: expect.stringContaining('old-batch'),
    });
    await expect(warehouse().reset()).rejects.toMatchObject({ name: 'WarehouseInUseError' });
    expect(redshift).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 0);
    expect(redshift).toHaveReceivedCommandWith(ListStatementsCommand, {
      StatementName: 'rewards-pipeline-',
      RoleLevel: true,
      Status: 'SUBMITTED',
    });
    // Once it has ended, the load goes ahead, under the name the guard looks for.
    redshift.on(ListStatementsCommand, { Status: 'STARTED' }).resolves({ Statements: [] });
    await warehouse().loadRun(RUN);
    expect(redshift).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { StatementName: 'rewards-pipeline-load' });
  });

  it('makes Data API throttling and 5xx a TransientError (the state machine retries it), and leaves other errors as they are', async () => {
    redshift
      .on(BatchExecuteStatementCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));
    await expect(warehouse().loadRun(RUN)).rejects.toMatchObject({ name: 'TransientError' });
    redshift
      .on(BatchExecuteStatementCommand)
      .rejects(Object.assign(new Error('Internal'), { name: 'InternalServerException', $fault: 'server' }));
    await expect(warehouse().loadRun(RUN)).rejects.toMatchObject({ name: 'TransientError' });
    redshift.on(BatchExecuteStatementCommand).rejects(Object.assign(new Error('nope'), { name: 'ValidationException', $fault: 'client' }));
    await expect(warehouse().loadRun(RUN)).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('reads every page of a result, typed', async () => {
    redshift
      .on(GetStatementResultCommand)
      .resolvesOnce({
        ColumnMetadata: [{ name: 'month' }, { name: 'plu' }, { name: 'rejected' }],
        Records: [[{ stringValue: '2026-10' }, { doubleValue: 1.5 }, { booleanValue: false }]],
        NextToken: 'page-2',
      })
      .resolves({
        ColumnMetadata: [{ name: 'month' }, { name: 'plu' }, { name: 'rejected' }],
        Records: [[{ stringValue: '2026-11' }, { isNull: true }, { booleanValue: true }]],
      });
    expect(await warehouse().query('SELECT 1')).toEqual([
      { month: '2026-10', plu: 1.5, rejected: false },
      { month: '2026-11', plu: null, rejected: true },
    ]);
  });

  it('stages a rebuild in a schema of its own, resumes it untouched, and swaps it in with one batch that gives the readers their grants again', async () => {
    const readers = ['IAMR:rewards-prod-eu-west-2-extract', 'IAMR:rewards-prod-eu-west-2-verify'];
    const withReaders = new RedshiftWarehouse(new RedshiftDataClient({ region: 'eu-west-2' }), {
      target: { workgroupName: 'rewards', database: 'dev' },
      iamRoleArn: ROLE,
      readers,
      locate: (key) => `s3://data-bucket/${key}`,
      sleep: async () => undefined,
    });
    const staged = await withReaders.stageRebuild();
    await withReaders.stageRebuild({ resume: true });
    const batches = () => redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.Sqls ?? []);
    expect(batches()).toEqual([['DROP SCHEMA IF EXISTS "rewards__rebuild" CASCADE', 'CREATE SCHEMA "rewards__rebuild"']]);
    // The staged warehouse loads into its own schema only.
    const load = (staged.warehouse as RedshiftWarehouse).loadStatements(RUN, { runId: 'r1' });
    expect(load.filter((sql) => /(^|[^.])"rewards"\."(transactions|rewards|reward_facts|load_ledger|v_\w+)"/.test(sql))).toEqual([]);
    expect(load.some((sql) => sql.includes('"rewards__rebuild"."transactions"'))).toBe(true);
    await staged.swapIn();
    const swap = batches()[1];
    checkBatchWithinLimits(swap);
    expect(swap.slice(0, 4)).toEqual([
      'DROP SCHEMA IF EXISTS "rewards__old" CASCADE',
      'CREATE SCHEMA IF NOT EXISTS "rewards"',
      'ALTER SCHEMA "rewards" RENAME TO "rewards__old"',
      'ALTER SCHEMA "rewards__rebuild" RENAME TO "rewards"',
    ]);
    expect(swap.filter((sql) => sql.startsWith('CREATE OR REPLACE VIEW "rewards"."v_'))).toHaveLength(DASHBOARD_VIEWS.length);
    const users = readers.map((user) => `"${user}"`).join(', ');
    expect(swap.slice(-4)).toEqual([
      `GRANT USAGE ON SCHEMA "rewards" TO ${users}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA "rewards" TO ${users}`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA "rewards" GRANT SELECT ON TABLES TO ${users}`,
      'DROP SCHEMA "rewards__old" CASCADE',
    ]);
    // A reader's name goes into SQL quoted, and only when it is a user name.
    expect(
      () =>
        new RedshiftWarehouse(new RedshiftDataClient({ region: 'eu-west-2' }), {
          target: { workgroupName: 'rewards', database: 'dev' },
          iamRoleArn: ROLE,
          readers: ['x"; DROP SCHEMA rewards; --'],
          locate: (key) => key,
        }),
    ).toThrow('Not a database user name');
    // One user for every function: nothing to grant again.
    expect(
      warehouse()
        .swapStatements()
        .filter((sql) => sql.startsWith('GRANT') || sql.startsWith('ALTER DEFAULT')),
    ).toEqual([]);
    await staged.discard();
    expect(batches()[2]).toEqual(['DROP SCHEMA IF EXISTS "rewards__rebuild" CASCADE']);
  });

  it('resets (views, then tables) in one batch, for a rebuild', async () => {
    await warehouse().reset();
    const sqls = redshift.commandCalls(BatchExecuteStatementCommand)[0].args[0].input.Sqls ?? [];
    // The views of earlier versions too: a view left on a table stops its DROP.
    expect(sqls.filter((sql) => sql.startsWith('DROP VIEW IF EXISTS "rewards"."v_'))).toHaveLength(
      DASHBOARD_VIEWS.length + RETIRED_VIEWS.length,
    );
    expect(sqls.slice(-5)).toEqual([
      'DROP TABLE IF EXISTS "rewards"."transactions"',
      'DROP TABLE IF EXISTS "rewards"."rewards"',
      'DROP TABLE IF EXISTS "rewards"."reward_facts"',
      'DROP TABLE IF EXISTS "rewards"."load_ledger"',
      'DROP TABLE IF EXISTS "rewards"."load_ledger_months"',
    ]);
  });

  it('COPYs each dataset once from its run folder, however many parts: a 3M-row first load (30 parts each) is one batch within the Data API limit', async () => {
    const sizes = [0, 1, 6, 30, 300].map((count) =>
      warehouse().loadStatements({ transactions: parts('transactions', count), rewards: parts('rewards', count) }, { runId: 'r1' }),
    );
    const [none, ...loads] = sizes;
    for (const sqls of loads) {
      expect(sqls.filter((sql) => sql.startsWith('COPY'))).toEqual([
        `COPY "staging_transactions" FROM 's3://data-bucket/${RUN_FOLDER('transactions')}' IAM_ROLE '${ROLE}' FORMAT AS PARQUET`,
        `COPY "staging_rewards" FROM 's3://data-bucket/${RUN_FOLDER('rewards')}' IAM_ROLE '${ROLE}' FORMAT AS PARQUET`,
      ]);
      expect(sqls).toHaveLength(loads[0].length);
    }
    expect(none.filter((sql) => sql.startsWith('COPY'))).toHaveLength(0);
    // The largest batch the pipeline sends (a load; a reset is smaller) keeps room for the statements later work
    // adds to the same transaction (a run record, view changes, grants).
    await warehouse().reset();
    await warehouse().loadRun({ transactions: parts('transactions', 30), rewards: parts('rewards', 30) }, { runId: 'r1' });
    const sent = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.Sqls ?? []);
    expect(sent.map((sqls) => sqls.length)).toEqual([
      expect.any(Number),
      sizes[3].length,
      DATA_HEALTH_TABLES.length + REPORTING_VIEWS.length,
    ]);
    expect(Math.max(...[...sent, ...sizes].map((sqls) => sqls.length))).toBeLessThanOrEqual(
      DATA_API_LIMITS.statementsPerBatch - LOAD_BATCH_RESERVE,
    );
    for (const sql of [...sent, ...sizes].flat()) expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(DATA_API_LIMITS.statementBytes);
  });

  it('sends one COPY per run folder when a load spans runs, and refuses a key that is not a Parquet part in a folder', () => {
    const sqls = warehouse().loadStatements({
      transactions: [...parts('transactions', 2), 'curated/transactions/ingest_date=2026-11-29/run=r2/part-00000.parquet'],
      rewards: [],
    });
    expect(sqls.filter((sql) => sql.startsWith('COPY')).map((sql) => /FROM '([^']+)'/.exec(sql)?.[1])).toEqual([
      `s3://data-bucket/${RUN_FOLDER('transactions')}`,
      's3://data-bucket/curated/transactions/ingest_date=2026-11-29/run=r2/',
    ]);
    expect(() => warehouse().loadStatements({ transactions: ['part-00000.parquet'], rewards: [] })).toThrow('inside a run folder');
    expect(() => warehouse().loadStatements({ transactions: [`${RUN_FOLDER('transactions')}rejects-00000.csv`], rewards: [] })).toThrow(
      'inside a run folder',
    );
  });

  it('refuses, before sending, a batch over 40 statements or a statement over 100 KB (the Data API limits), and accepts one at each limit', async () => {
    const statements = (count: number) => Array.from({ length: count }, (_, i) => `SELECT ${i}`);
    expect(() => checkBatchWithinLimits(statements(40))).not.toThrow();
    expect(() => checkBatchWithinLimits(statements(41))).toThrow(DataApiLimitError);
    const atLimit = `SELECT '${'x'.repeat(DATA_API_LIMITS.statementBytes - "SELECT ''".length)}'`;
    expect(Buffer.byteLength(atLimit)).toBe(100 * 1024);
    expect(() => checkBatchWithinLimits([atLimit])).not.toThrow();
    expect(() => checkBatchWithinLimits([`${atLimit} `])).toThrow("over the Redshift Data API's limit of 102400");
    // Multi-byte text counts in bytes, as AWS counts it.
    expect(() => checkBatchWithinLimits([`SELECT '${'é'.repeat(DATA_API_LIMITS.statementBytes / 2)}'`])).toThrow(DataApiLimitError);
    await expect(warehouse().query(`${atLimit} `)).rejects.toBeInstanceOf(DataApiLimitError);
    expect(redshift).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });

  it('refuses a role that is not an IAM role ARN (it goes into SQL)', () => {
    expect(
      () =>
        new RedshiftWarehouse(new RedshiftDataClient({}), {
          target: { workgroupName: 'w', database: 'd' },
          iamRoleArn: "x' ; DROP TABLE t; --",
          locate: (k) => k,
        }),
    ).toThrow('not an IAM role ARN');
  });
});

// The batch Redshift gets, executed for real on DuckDB: each COPY becomes an INSERT from read_parquet, and the
// Redshift-only table layout is dropped; everything else runs as sent. Idempotent, latest version wins, and
// the facts join late both ways.
describe('the load batch on DuckDB', () => {
  const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');
  let dir: string;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  let runs = 0;

  const outputs: ReturnType<typeof transformRun>[] = [];
  const load = async (transactionsCsv: string, rewardsCsv: string) => {
    runs += 1;
    const output = transformRun({ transactionsCsv, rewardsCsv });
    outputs.push(output);
    const keys = {
      transactions: [`curated/transactions/run=${runs}/part-00000.parquet`],
      rewards: [`curated/rewards/run=${runs}/part-00000.parquet`],
    };
    for (const dataset of ['transactions', 'rewards'] as const) {
      await mkdir(join(dir, `curated/${dataset}/run=${runs}`), { recursive: true });
      await writeFile(join(dir, keys[dataset][0]), output.parquet[dataset]);
    }
    // The batch as Redshift gets it, through the named substitutions of @org/sql-dialect (a COPY from a folder
    // reads every Parquet file in it).
    const onDuckDb = (sql: string) =>
      redshiftSqlOnDuckDb(sql, (location) => quoteLiteral(join(dir, location.replace('s3://data-bucket/', ''), '*')));
    // A session of its own, as each Data API batch has: its temporary tables end with it.
    const session = await instance.connect();
    await session.run('BEGIN TRANSACTION');
    for (const sql of warehouse().loadStatements(keys, { runId: `run-${runs}` })) await session.run(onDuckDb(sql));
    await session.run('COMMIT');
    session.closeSync();
  };
  const snapshot = async () =>
    (
      await db.runAndReadAll(
        'SELECT (SELECT count(*) FROM "rewards"."transactions")::INT AS tx, (SELECT md5(string_agg(f::VARCHAR, \'|\' ORDER BY f.reward_id)) FROM "rewards"."reward_facts" AS f) AS facts, (SELECT md5(string_agg(r::VARCHAR, \'|\' ORDER BY r.reward_id)) FROM "rewards"."rewards" AS r) AS rewards',
      )
    ).getRowObjectsJson()[0];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redshift-sql-'));
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  });
  afterEach(async () => {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it('is idempotent, and the latest updated_at wins', async () => {
    await load(await fixture('transactions.csv'), await fixture('rewards.csv'));
    const once = await snapshot();
    await load(await fixture('transactions.csv'), await fixture('rewards.csv'));
    expect(await snapshot()).toEqual(once);
    await load(
      'id,currency,amount,date\n',
      'id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\nr-dst,0.05394,false,Rejected by admin,2024-03-31T02:00:00Z,2024-06-01T00:00:00Z,0.03,0.27,GBP,t-dst\nr-perk,2.5,false,,2024-04-05T10:00:00Z,2024-04-05T10:00:00Z,0,10,GBP,t-netflix\n',
    );
    const rows = (
      await db.runAndReadAll('SELECT reward_id, is_available, reason, is_rejected FROM "rewards"."reward_facts" ORDER BY reward_id')
    ).getRowObjectsJson();
    expect(rows.find((row) => row['reward_id'] === 'r-dst')).toEqual({
      reward_id: 'r-dst',
      is_available: false,
      reason: 'Rejected by admin',
      is_rejected: true,
    });
    // r-perk's copy in the last load is older than the one loaded: it must not win.
    expect(rows.find((row) => row['reward_id'] === 'r-perk')).toMatchObject({ is_available: true });
  });

  it('after every load of the conformance sequence, holds what the reference model of @org/pipeline says, cell for cell', async () => {
    for (const [index, raw] of LOAD_SEQUENCE.entries()) {
      await load(raw.transactionsCsv, raw.rewardsCsv);
      const expected = expectedWarehouseParquet(LOAD_SEQUENCE.slice(0, index + 1));
      for (const table of ['transactions', 'rewards', 'reward_facts'] as const) {
        const path = join(dir, `expected-${table}.parquet`);
        await writeFile(path, expected[table]);
        const [agreement] = (
          await db.runAndReadAll(tableDifferencesSql(table, `"rewards"."${table}"`, `read_parquet(${quoteLiteral(path)})`))
        ).getRowObjectsJson();
        const rows = Number(agreement['expected_rows']);
        expect([index, table, agreement]).toEqual([index, table, { actual_rows: rows, expected_rows: rows, joined: rows, differences: 0 }]);
      }
      // The ledger's figures per month, kept by the load's own statements, equal the reference model's and the
      // tables' own (Redshift's text of the scan, run on DuckDB).
      const figures = expectedMonthFigures(LOAD_SEQUENCE.slice(0, index + 1));
      const kept = ledgerMonthsOf((await db.runAndReadAll(ledgerMonthsSelectSql('rewards'))).getRowObjectsJson());
      expect([index, kept]).toEqual([index, figures]);
      for (const dataset of ['transactions', 'rewards'] as const) {
        const scan = monthFiguresScanSql(REDSHIFT_DIALECT, dataset, { relation: `"rewards"."${dataset}"` });
        expect([index, monthFiguresOf((await db.runAndReadAll(redshiftSqlOnDuckDb(scan))).getRowObjectsJson())]).toEqual([
          index,
          figures[dataset],
        ]);
      }
    }
  });

  it('records each load in the ledger in its own batch: the digests equal the rules’ TypeScript digest of the Parquet it loaded', async () => {
    outputs.length = 0;
    for (const raw of LOAD_SEQUENCE) await load(raw.transactionsCsv, raw.rewardsCsv);
    const ledger = (await db.runAndReadAll(ledgerSelectSql('rewards'))).getRowObjectsJson().map(ledgerEntryOf);
    expect(ledger.map((entry) => entry.seq)).toEqual(LOAD_SEQUENCE.map((_, index) => index + 1));
    for (const [index, entry] of ledger.entries()) {
      for (const dataset of ['transactions', 'rewards'] as const) {
        const table = outputs[index].tables[dataset];
        expect(entry.loaded[dataset]).toEqual({
          rows: new Set(table.columns[DATASET_KEYS[dataset]] as (string | null)[]).size,
          digest: ledgerDigest(table, dataset),
        });
      }
    }
    const [counts] = (await db.runAndReadAll(redshiftSqlOnDuckDb(tableCountsSql('rewards')))).getRowObjectsJson();
    expect(ledger.at(-1)?.inTable).toEqual({
      transactions: Number(counts['transactions']),
      rewards: Number(counts['rewards']),
      reward_facts: Number(counts['reward_facts']),
    });
  });

  it('summarises the rewards by month of change as the ledger summary does (Redshift text run on DuckDB)', async () => {
    await load(await fixture('transactions.csv'), await fixture('rewards.csv'));
    // Instants before 1970 with a fraction of a second: whole seconds are cut toward zero on both sides.
    await db.run(
      `INSERT INTO "rewards"."rewards" (reward_id, plu_amount, is_available, created_at, updated_at) VALUES ` +
        `('old-1', 1, TRUE, TIMESTAMPTZ '1929-04-03 10:00:00.500+00', TIMESTAMPTZ '1929-04-03 10:00:00.500+00'), ` +
        `('old-2', 1, TRUE, TIMESTAMPTZ '1969-12-31 23:59:59.250+00', TIMESTAMPTZ '1969-12-31 23:59:59.250+00')`,
    );
    const before = '2100-01-01T00:00:00.000Z';
    const rows = (
      await db.runAndReadAll(redshiftSqlOnDuckDb(monthFiguresScanSql(REDSHIFT_DIALECT, 'rewards', { relation: REWARDS_TABLE, before })))
    ).getRowObjectsJson();
    const inTable = (await db.runAndReadAll('SELECT epoch_ms("updated_at") AS ms FROM "rewards"."rewards"')).getRowObjectsJson();
    // The same figures worked out here from each row's instant: its UTC month, whole seconds (toward zero) added up.
    const expected: Record<string, { rows: number; seconds: number }> = {};
    for (const row of inTable) {
      const ms = Number(row['ms']);
      const month = (expected[new Date(ms).toISOString().slice(0, 7)] ??= { rows: 0, seconds: 0 });
      month.rows += 1;
      month.seconds += Math.trunc(ms / 1000);
    }
    expect(
      Object.fromEntries(rows.map((row) => [String(row['month']), { rows: Number(row['rows']), seconds: Number(row['seconds']) }])),
    ).toEqual(expected);
    const first = Object.keys(expected).sort()[0];
    const ids = (
      await db.runAndReadAll(redshiftSqlOnDuckDb(rewardIdsUpdatedBetweenSql(`${first}-01T00:00:00.000Z`, before, 'rewards')))
    ).getRowObjectsJson();
    expect(ids.length).toBe(inTable.length);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['1929-04', '1969-12']));
    // And the pipeline's own summary of the same instants, as extract makes it from the ledger, agrees.
    const summary = new LedgerSummary(before);
    for (const row of inTable) summary.add(Number(row['ms']));
    expect(summary.months()).toEqual(expected);
    // The figures of some ids alone, to take away from the whole's.
    const only = (
      await db.runAndReadAll(
        redshiftSqlOnDuckDb(
          monthFiguresScanSql(REDSHIFT_DIALECT, 'rewards', { relation: REWARDS_TABLE, before, key: 'reward_id', onlyKeys: ['old-1'] }),
        ),
      )
    ).getRowObjectsJson();
    expect(only.map((row) => [String(row['month']), Number(row['rows'])])).toEqual([['1929-04', 1]]);
  });

  it('derives every fact again from the tables, as the loads did', async () => {
    await load(await fixture('transactions.csv'), await fixture('rewards.csv'));
    const loaded = await snapshot();
    await db.run('DELETE FROM "rewards"."reward_facts"');
    const session = await instance.connect();
    await session.run('BEGIN TRANSACTION');
    for (const sql of warehouse().rederiveFactsStatements()) await session.run(redshiftSqlOnDuckDb(sql));
    await session.run('COMMIT');
    session.closeSync();
    expect(await snapshot()).toEqual(loaded);
    const [last] = (await db.runAndReadAll(ledgerSelectSql('rewards'))).getRowObjectsJson().map(ledgerEntryOf).slice(-1);
    expect(last.inTable.reward_facts).toBe(
      Number((await db.runAndReadAll('SELECT count(*) AS n FROM "rewards"."reward_facts"')).getRowObjectsJson()[0]['n']),
    );
  });

  it('joins late both ways: rewards first, then their transactions, equals one load of both', async () => {
    await load(await fixture('transactions.csv'), await fixture('rewards.csv'));
    const together = await snapshot();
    await db.run('DROP SCHEMA "rewards" CASCADE');
    await load('id,currency,amount,date\n', await fixture('rewards.csv'));
    await load(await fixture('transactions.csv'), 'id,amount,createdAt\n');
    expect(await snapshot()).toEqual(together);
  });
});
