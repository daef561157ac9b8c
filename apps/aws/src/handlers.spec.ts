import { BatchCreatePartitionCommand, CreateDatabaseCommand, CreateTableCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSandbox, type Sandbox } from '@org/plutus-sandbox';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { fakeS3 } from '../test/fake-s3';
import { handler as catalog } from './handlers/catalog';
import { handler as commit } from './handlers/commit';
import { handler as extract } from './handlers/extract';
import { handler as load } from './handlers/load';
import { handler as recordFailure } from './handlers/record-failure';
import { handler as transform } from './handlers/transform';

jest.setTimeout(30_000);

// Handlers read their configuration on first invocation, so importing them before setting the environment is fine.
// Each handler invoked as Step Functions would, with realistic events; AWS is mocked at the SDK boundary and
// Plutus is the sandbox over real HTTP.
describe('Lambda handlers', () => {
  let sandbox: Sandbox;
  const storage = fakeS3();
  const glue = mockClient(GlueClient);
  const redshift = mockClient(RedshiftDataClient);
  const secrets = mockClient(SecretsManagerClient);
  const logs: string[] = [];
  const secretToken = { value: '' };

  beforeAll(async () => {
    sandbox = await startSandbox({ now: '2026-06-30T12:00:00Z', months: 3 });
    secretToken.value = sandbox.issueToken();
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-2',
      DATA_BUCKET: 'rewards-data',
      DATA_PREFIX: 'pipeline/',
      GLUE_DATABASE: 'rewards_dev',
      REDSHIFT_COPY_ROLE_ARN: 'arn:aws:iam::123456789012:role/rewards-copy',
      REDSHIFT_DATABASE: 'dev',
      REDSHIFT_WORKGROUP: 'rewards-dev',
      PLUTUS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:plutus',
      PLUTUS_BASE_URL: sandbox.url,
    });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ idToken: secretToken.value }) });
    glue.on(CreateDatabaseCommand).resolves({});
    glue.on(GetTableCommand).rejects(Object.assign(new Error('not found'), { name: 'EntityNotFoundException' }));
    glue.on(CreateTableCommand).resolves({});
    glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'batch' });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'count' });
    redshift.on(DescribeStatementCommand).resolves({ Status: 'FINISHED', SubStatements: [] });
    redshift.on(GetStatementResultCommand).resolves({ ColumnMetadata: [{ name: 'n' }], Records: [[{ longValue: 3 }]] });
    jest.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(line));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void logs.push(line));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await sandbox.close();
  });

  it('runs extract → transform → catalog → load → commit on S3, Glue and Redshift', async () => {
    const runId = '2026-06-30T12:00:00.000Z-exec-1';

    expect(await extract({ runId, mode: 'incremental' })).toEqual({ runId });
    expect(storage.text(`rewards-data/pipeline/state/lock.json`)).toContain(runId);
    const raw = [...storage.objects.keys()].filter((key) => key.includes('/raw/'));
    expect(raw).toHaveLength(2);
    expect(await transform({ runId })).toEqual({ runId });
    expect(await catalog({ runId })).toEqual({ runId });
    expect(glue).toHaveReceivedCommandWith(BatchCreatePartitionCommand, { DatabaseName: 'rewards_dev', TableName: 'reward_facts' });
    expect(await load({ runId })).toEqual({ runId });
    const sqls = redshift.commandCalls(BatchExecuteStatementCommand).flatMap((call) => call.args[0].input.Sqls ?? []);
    expect(sqls.filter((sql) => sql.startsWith('COPY'))).toEqual([
      expect.stringContaining(`FROM 's3://rewards-data/pipeline/curated/transactions/ingest_date=`),
      expect.stringContaining(`FROM 's3://rewards-data/pipeline/curated/rewards/ingest_date=`),
      expect.stringContaining(`FROM 's3://rewards-data/pipeline/curated/reward_facts/ingest_date=`),
    ]);
    expect(await commit({ runId })).toEqual({ runId });
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest.status).toBe('succeeded');
    expect(manifest.steps.extract.counts.transactions).toBe(sandbox.data().transactions.length);
    expect(JSON.parse(storage.text('rewards-data/pipeline/state/cursor.json')).transactionsThrough).not.toBeNull();
    expect(storage.objects.has('rewards-data/pipeline/state/lock.json')).toBe(false);

    const events = logs.map((line) => JSON.parse(line));
    expect(events.filter((event) => event.message === 'step succeeded').map((event) => event.task)).toEqual(['Extract', 'Transform', 'Catalog', 'Load', 'Commit']);
    expect(events.every((event) => event.runId === runId)).toBe(true);
    expect(logs.join('\n')).not.toContain(secretToken.value);
  });

  it('records a failure from the Catch path and frees the lock, leaving the cursor alone', async () => {
    const runId = '2026-07-01T12:00:00.000Z-exec-2';
    const cursorBefore = storage.text('rewards-data/pipeline/state/cursor.json');
    sandbox.setFaults({ serverError: { routes: ['transactions'] } });
    await expect(extract({ runId, mode: 'incremental' })).rejects.toMatchObject({ name: 'TransientError' });
    sandbox.setFaults({});
    await recordFailure({ runId, error: { Error: 'TransientError', Cause: JSON.stringify({ errorMessage: 'Plutus failed: 500' }) } });
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest).toMatchObject({ status: 'failed', error: { step: 'extract', name: 'TransientError', message: 'Plutus failed: 500' } });
    expect(storage.objects.has('rewards-data/pipeline/state/lock.json')).toBe(false);
    expect(storage.text('rewards-data/pipeline/state/cursor.json')).toBe(cursorBefore);
    const failure = logs.map((line) => JSON.parse(line)).find((event) => event.message === 'step failed');
    expect(failure).toMatchObject({ level: 'error', task: 'Extract', runId, error: 'TransientError' });
  });
});
