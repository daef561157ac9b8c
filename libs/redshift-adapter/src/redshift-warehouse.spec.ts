import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { DuckDBInstance } from '@duckdb/node-api';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createTableSql, quoteLiteral } from '@org/pipeline';
import { transformRun } from '@org/rewards-transform';
import { RedshiftStatementError, RedshiftWarehouse } from './redshift-warehouse';

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

describe('RedshiftWarehouse', () => {
  beforeEach(() => {
    redshift.reset();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'batch-1' });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'count-1' });
    redshift.on(DescribeStatementCommand, { Id: 'batch-1' }).resolvesOnce({ Status: 'STARTED' }).resolves({
      Status: 'FINISHED',
      SubStatements: [{ QueryString: `COPY "staging_rewards" FROM ...`, ResultRows: 42, Status: 'FINISHED', Id: 'batch-1:4' }],
    });
    redshift.on(DescribeStatementCommand, { Id: 'count-1' }).resolves({ Status: 'FINISHED' });
    redshift.on(GetStatementResultCommand).resolves({ ColumnMetadata: [{ name: 'n' }], Records: [[{ longValue: 40 }]] });
  });

  it('loads in one batch: schema, table, staging, COPY ... FORMAT AS PARQUET, de-dup and MERGE', async () => {
    await expect(warehouse().mergeDataset('rewards', [KEY])).resolves.toEqual({ dataset: 'rewards', rowsStaged: 42, rowsInTable: 40 });
    expect(redshift).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 1);
    const input = redshift.commandCalls(BatchExecuteStatementCommand)[0].args[0].input;
    expect(input).toMatchObject({ WorkgroupName: 'rewards', Database: 'dev' });
    const sqls = input.Sqls ?? [];
    expect(sqls[0]).toBe('CREATE SCHEMA IF NOT EXISTS "rewards"');
    expect(sqls[1]).toContain('CREATE TABLE IF NOT EXISTS "rewards"."rewards"');
    expect(sqls[1]).toContain('DISTKEY("reward_id") SORTKEY("created_at")');
    expect(sqls[2]).toBe('CREATE TEMP TABLE "staging_rewards" (LIKE "rewards"."rewards")');
    expect(sqls[3]).toBe(`COPY "staging_rewards" FROM 's3://data-bucket/${KEY}' IAM_ROLE '${ROLE}' FORMAT AS PARQUET`);
    expect(sqls.some((sql) => sql.startsWith('MERGE INTO "rewards"."rewards" USING "staging_rewards_latest"'))).toBe(true);
    // It polled with backoff until FINISHED.
    expect(redshift.commandCalls(DescribeStatementCommand).filter((call) => call.args[0].input.Id === 'batch-1')).toHaveLength(2);
  });

  it('addresses a provisioned cluster with a database user or a secret', async () => {
    await warehouse({ clusterIdentifier: 'analytics', database: 'dev', dbUser: 'loader' }).mergeDataset('rewards', [KEY]);
    expect(redshift).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { ClusterIdentifier: 'analytics', Database: 'dev', DbUser: 'loader' });
    redshift.resetHistory();
    await warehouse({ clusterIdentifier: 'analytics', database: 'dev', secretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:rs' }).query('SELECT 1');
    expect(redshift).toHaveReceivedCommandWith(ExecuteStatementCommand, { SecretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:rs' });
  });

  it('fails with the failed statement, Redshift message and the COPY hint', async () => {
    redshift.on(DescribeStatementCommand, { Id: 'batch-1' }).resolves({
      Status: 'FAILED',
      Error: 'batch failed',
      SubStatements: [{ Id: 'batch-1:4', Status: 'FAILED', QueryString: 'COPY "staging_rewards" FROM ...', Error: 'Spectrum Scan Error: incompatible Parquet schema' }],
    });
    const error = await warehouse().mergeDataset('rewards', [KEY]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedshiftStatementError);
    expect((error as RedshiftStatementError).failedSql).toBe('COPY "staging_rewards" FROM ...');
    expect((error as Error).message).toContain('incompatible Parquet schema');
    expect((error as Error).message).toContain('sys_load_error_detail');
  });

  it('reads every page of a result, typed', async () => {
    redshift.on(GetStatementResultCommand).resolvesOnce({
      ColumnMetadata: [{ name: 'month' }, { name: 'plu' }, { name: 'rejected' }],
      Records: [[{ stringValue: '2026-10' }, { doubleValue: 1.5 }, { booleanValue: false }]],
      NextToken: 'page-2',
    }).resolves({ ColumnMetadata: [{ name: 'month' }, { name: 'plu' }, { name: 'rejected' }], Records: [[{ stringValue: '2026-11' }, { isNull: true }, { booleanValue: true }]] });
    expect(await warehouse().query('SELECT 1')).toEqual([
      { month: '2026-10', plu: 1.5, rejected: false },
      { month: '2026-11', plu: null, rejected: true },
    ]);
  });

  it('creates the dashboard views after the tables, in one batch', async () => {
    await warehouse().createViews();
    const sqls = redshift.commandCalls(BatchExecuteStatementCommand)[0].args[0].input.Sqls ?? [];
    expect(sqls[0]).toBe('CREATE SCHEMA IF NOT EXISTS "rewards"');
    expect(sqls.filter((sql) => sql.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(3);
    expect(sqls.filter((sql) => sql.startsWith('CREATE OR REPLACE VIEW "rewards"."v_'))).toHaveLength(7);
  });

  it('refuses a role that is not an IAM role ARN (it goes into SQL)', () => {
    expect(() => new RedshiftWarehouse(new RedshiftDataClient({}), { target: { workgroupName: 'w', database: 'd' }, iamRoleArn: "x' ; DROP TABLE t; --", locate: (k) => k })).toThrow('not an IAM role ARN');
  });
});

// The same statements, executed for real on DuckDB with the COPY replaced by read_parquet: the MERGE text is
// idempotent and the latest version of a row wins.
describe('the load SQL on DuckDB', () => {
  it('is idempotent, and the latest updated_at wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redshift-sql-'));
    try {
      const fixture = (name: string) => readFile(join(__dirname, '..', '..', 'rewards-transform', 'test', 'fixtures', name), 'utf8');
      const first = transformRun({ transactionsCsv: await fixture('transactions.csv'), rewardsCsv: await fixture('rewards.csv') });
      await writeFile(join(dir, 'first.parquet'), first.parquet.rewards);
      const later = transformRun({
        transactionsCsv: 'id,currency,amount,date\n',
        rewardsCsv: 'id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_id\nr-dst,0.05394,false,Rejected by admin,2024-03-31T02:00:00Z,2024-06-01T00:00:00Z,0.03,0.27,GBP,t-dst\nr-perk,2.5,false,,2024-04-05T10:00:00Z,2024-04-05T10:00:00Z,0,10,GBP,t-netflix\n',
      });
      await writeFile(join(dir, 'later.parquet'), later.parquet.rewards);
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      await db.run('CREATE SCHEMA "rewards"');
      await db.run(createTableSql('rewards', 'duckdb', { schema: 'rewards' }));
      const load = async (file: string) => {
        const statements = warehouse().loadStatements('rewards', [file]);
        const copy = statements.findIndex((sql) => sql.startsWith('COPY'));
        await db.run('BEGIN TRANSACTION');
        await db.run(`CREATE TEMP TABLE "staging_rewards" AS SELECT * FROM read_parquet(${quoteLiteral(join(dir, file))})`);
        // Everything after the COPY runs exactly as Redshift would get it.
        for (const sql of statements.slice(copy + 1)) await db.run(sql);
        await db.run('COMMIT');
        return (await db.runAndReadAll('SELECT reward_id, is_available, reason FROM "rewards"."rewards" ORDER BY reward_id')).getRowObjectsJson();
      };
      const once = await load('first.parquet');
      expect(await load('first.parquet')).toEqual(once);
      const after = await load('later.parquet');
      expect(after.find((row) => row['reward_id'] === 'r-dst')).toEqual({ reward_id: 'r-dst', is_available: false, reason: 'Rejected by admin' });
      // r-perk's copy in `later` is older than the one loaded: it must not win.
      expect(after.find((row) => row['reward_id'] === 'r-perk')).toEqual(once.find((row) => row['reward_id'] === 'r-perk'));
      expect(after).toHaveLength(once.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
