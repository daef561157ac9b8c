import { BatchCreatePartitionCommand, CreateDatabaseCommand, CreateTableCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSandbox, type Sandbox } from '@org/plutus-sandbox';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { loadStep } from '@org/pipeline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeS3 } from '../test/fake-s3';
import { deniedRequests, iamRequestsFor, sdkCallRecorder } from '../test/iam-proof';
import { packageService } from '../test/package-service';
import { lambdaStep, noExtraPorts } from './lambda-step';
import { handler as catalogHandler } from './handlers/catalog';
import { handler as commitHandler } from './handlers/commit';
import { handler as extractHandler } from './handlers/extract';
import { handler as loadHandler } from './handlers/load';
import { handler as planHandler } from './handlers/plan';
import { handler as rebuildHandler } from './handlers/rebuild';
import { handler as recordFailureHandler } from './handlers/record-failure';
import { handler as transformHandler } from './handlers/transform';

jest.setTimeout(30_000);

describe('lambdaStep', () => {
  it('does not compile a handler whose step needs a port it was not given (typed ports, no run-time Proxy)', () => {
    // @ts-expect-error: the load step needs a warehouse, and noExtraPorts gives none. typecheck fails if this compiles.
    const forgot = lambdaStep('Load', loadStep, noExtraPorts);
    expect(typeof forgot).toBe('function');
  });
});

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
  // Every SDK command each handler sends, for the IAM proof at the end.
  const sdk = sdkCallRecorder([storage.s3, glue, redshift, secrets]);
  const recorded =
    <I, O>(task: string, handler: (event: I) => Promise<O>) =>
    (event: I) =>
      sdk.during(task, () => handler(event));
  const plan = recorded('Plan', planHandler);
  const extract = recorded('Extract', extractHandler);
  const transform = recorded('Transform', transformHandler);
  const load = recorded('Load', loadHandler);
  const catalog = recorded('Catalog', catalogHandler);
  const commit = recorded('Commit', commitHandler);
  const recordFailure = recorded('RecordFailure', recordFailureHandler);
  const rebuild = recorded('Rebuild', rebuildHandler);

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
    redshift.on(ListStatementsCommand).resolves({ Statements: [] });
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'batch' });
    // A warehouse that has no ledger yet (so every load starts one), and the counts after each load.
    redshift
      .on(ExecuteStatementCommand)
      .callsFake((input: { Sql?: string }) => ({ Id: /table_name = 'load_ledger'/.test(input.Sql ?? '') ? 'no-ledger' : 'count' }));
    redshift.on(DescribeStatementCommand).resolves({ Status: 'FINISHED', SubStatements: [] });
    redshift.on(GetStatementResultCommand, { Id: 'no-ledger' }).resolves({ ColumnMetadata: [{ name: 'table_name' }], Records: [] });
    redshift.on(GetStatementResultCommand, { Id: 'count' }).resolves({
      ColumnMetadata: [{ name: 'transactions' }, { name: 'rewards' }, { name: 'reward_facts' }, { name: 'facts_without_transaction' }],
      Records: [[{ longValue: 3 }, { longValue: 4 }, { longValue: 4 }, { longValue: 1 }]],
    });
    // Powertools writes its JSON logs and EMF metrics straight to stdout and stderr, a line each.
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        logs.push(
          ...String(chunk)
            .split('\n')
            .filter((line) => line.startsWith('{')),
        );
        return true;
      }) as typeof stream.write);
    }
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await sandbox.close();
  });

  it('runs plan → extract → transform → load → catalog → commit on S3, Glue and Redshift', async () => {
    const planned = await plan({ request: { mode: 'incremental' }, startTime: '2026-06-30T12:00:00.000Z' });
    expect(planned).toEqual({ runId: expect.stringMatching(/^20260630T120000000Z-[0-9a-f]{6}$/), mode: 'incremental' });
    const runId = '20260630T120000000Z-exec01';

    expect(await extract({ runId, mode: 'incremental' })).toEqual({ runId });
    expect(storage.text(`rewards-data/pipeline/state/lock.json`)).toContain(runId);
    const raw = [...storage.objects.keys()].filter((key) => key.includes('/raw/'));
    expect(raw).toHaveLength(2);
    expect(await transform({ runId })).toEqual({ runId });
    expect(await load({ runId })).toEqual({ runId });
    const sqls = redshift.commandCalls(BatchExecuteStatementCommand).flatMap((call) => call.args[0].input.Sqls ?? []);
    expect(redshift).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 1);
    expect(sqls.filter((sql) => sql.startsWith('COPY'))).toEqual([
      expect.stringContaining(`FROM 's3://rewards-data/pipeline/curated/transactions/ingest_date=`),
      expect.stringContaining(`FROM 's3://rewards-data/pipeline/curated/rewards/ingest_date=`),
    ]);
    expect(sqls.some((sql) => sql.startsWith('INSERT INTO "rewards"."reward_facts"'))).toBe(true);
    expect(await catalog({ runId })).toEqual({ runId });
    expect(glue).toHaveReceivedCommandWith(BatchCreatePartitionCommand, { DatabaseName: 'rewards_dev', TableName: 'rewards' });
    expect(glue).not.toHaveReceivedCommandWith(BatchCreatePartitionCommand, { TableName: 'reward_facts' });
    expect(await commit({ runId })).toEqual({ runId });
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest.status).toBe('succeeded');
    expect(manifest.steps.extract.counts.transactions).toBe(sandbox.data().transactions.length);
    expect(JSON.parse(storage.text('rewards-data/pipeline/state/cursor.json')).transactionsThrough).not.toBeNull();
    expect(storage.objects.has('rewards-data/pipeline/state/lock.json')).toBe(false);

    const lines = logs.map((line) => JSON.parse(line) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const events = lines.filter((line) => line['message']);
    expect(events.filter((event) => event['message'] === 'step succeeded').map((event) => event['task'])).toEqual([
      'Plan',
      'Extract',
      'Transform',
      'Load',
      'Catalog',
      'Commit',
    ]);
    expect(
      events
        .filter((event) => event['task'] !== 'Plan')
        .every((event) => event['runId'] === runId && event['service'] === 'rewards-pipeline' && event['level'] === 'INFO'),
    ).toBe(true);
    expect(logs.join('\n')).not.toContain(secretToken.value);
    // EMF: one namespace, a duration for every step, the rows each step pulled, curated and loaded.
    const emf = lines.filter((line) => line['_aws']);
    expect(new Set(emf.map((line) => line['_aws'].CloudWatchMetrics[0].Namespace))).toEqual(new Set(['RewardsPipeline']));
    const metric = (task: string, name: string) => emf.find((line) => line['task'] === task && name in line)?.[name];
    for (const task of ['Plan', 'Extract', 'Transform', 'Load', 'Catalog', 'Commit'])
      expect(metric(task, 'StepDurationMs')).toEqual(expect.any(Number));
    expect(metric('Extract', 'TransactionsPulled')).toBe(sandbox.data().transactions.length);
    expect(metric('Extract', 'RewardsPulled')).toBe(manifest.steps.extract.counts.rewards);
    expect(metric('Transform', 'TransactionsCurated')).toBe(manifest.steps.transform.counts.transactions);
    expect(metric('Transform', 'RewardsRejected')).toBe(manifest.steps.transform.counts.rewards_rejected);
    expect(metric('Load', 'RewardsLoaded')).toBe(manifest.steps.load.counts.rewards_staged);
  });

  it('records a failure from the Catch path and frees the lock, leaving the cursor alone', async () => {
    const runId = '20260701T120000000Z-exec02';
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
    expect(logs.map((line) => JSON.parse(line)).some((line) => line['StepFailed'] === 1)).toBe(true);
    expect(failure).toMatchObject({ level: 'ERROR', task: 'Extract', runId, error: 'TransientError' });
  });

  it('rebuilds the warehouse from the loaded runs: reset, one load per run in order, partitions, views', async () => {
    redshift.resetHistory();
    glue.resetHistory();
    const runId = '20260702T120000000Z-rebuild';
    expect(await rebuild({ runId })).toEqual({ runId });
    const batches = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.Sqls ?? []);
    expect(batches[0].every((sql) => sql.startsWith('DROP '))).toBe(true);
    // The empty first load makes tables and views; then the one loaded run of the first test is replayed.
    expect(batches.slice(1).map((sqls) => sqls.filter((sql) => sql.startsWith('COPY')).length)).toEqual([0, 2]);
    expect(glue).toHaveReceivedCommandWith(BatchCreatePartitionCommand, { TableName: 'transactions' });
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest).toMatchObject({ mode: 'rebuild', status: 'succeeded', steps: { rebuild: { counts: { runs_replayed: 1 } } } });
    expect(storage.objects.has('rewards-data/pipeline/state/lock.json')).toBe(false);
  });

  it('every AWS call each handler made is allowed by its own role in the packaged template (IAM simulated)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sls-iam-proof-'));
    try {
      const workgroupArn = 'arn:aws:redshift-serverless:eu-west-2:123456789012:workgroup/0f1e2d3c-aaaa-bbbb-cccc-123456789012';
      const template = packageService(out, [
        '--stage',
        'dev',
        '--param=redshiftWorkgroup=rewards-dev',
        `--param=redshiftWorkgroupArn=${workgroupArn}`,
        '--param=dataPrefix=pipeline/',
        `--param=plutusSecretArn=${process.env['PLUTUS_SECRET_ARN']}`,
      ]);
      // What a deployed stack's references would be, matching the environment the handlers ran with.
      const stack = {
        'AWS::Partition': 'aws',
        'AWS::Region': 'eu-west-2',
        'AWS::AccountId': '123456789012',
        'AWS::StackName': 'rewards-pipeline-dev',
        DataBucket: 'rewards-data',
        'DataBucket.Arn': 'arn:aws:s3:::rewards-data',
        GlueDatabase: 'rewards_dev',
      };
      const facts = { partition: 'aws', region: 'eu-west-2', accountId: '123456789012', workgroupArns: { 'rewards-dev': workgroupArn } };
      expect(Object.keys(sdk.sent).sort()).toEqual(
        ['Catalog', 'Commit', 'Extract', 'Load', 'Plan', 'Rebuild', 'RecordFailure', 'Transform'].filter((task) => task !== 'Plan'),
      );
      const checked: Record<string, number> = {};
      for (const [task, commands] of Object.entries(sdk.sent)) {
        const requests = commands.flatMap((command) => iamRequestsFor(command, facts));
        checked[task] = requests.length;
        expect({ task, denied: await deniedRequests(template, `${task}LambdaFunction`, requests, stack, '123456789012') }).toEqual({
          task,
          denied: [],
        });
      }
      expect(Math.min(...Object.values(checked))).toBeGreaterThan(0);
      // The checker bites: a HeadObject on a missing key (no s3:prefix in the request) and another step's data are refused.
      const probe = iamRequestsFor({ name: 'HeadObject', input: { Bucket: 'rewards-data', Key: 'pipeline/state/cursor.json' } }, facts);
      expect(
        (await deniedRequests(template, 'ExtractLambdaFunction', probe, stack, '123456789012')).map((request) => request.action),
      ).toEqual(['s3:ListBucket']);
      const foreign = iamRequestsFor(
        { name: 'GetObject', input: { Bucket: 'rewards-data', Key: 'pipeline/raw/transactions/x.csv' } },
        facts,
      );
      expect(await deniedRequests(template, 'LoadLambdaFunction', foreign, stack, '123456789012')).toHaveLength(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 600_000); // packaging waits for the other suites' packaging (one at a time), then runs serverless package
});
