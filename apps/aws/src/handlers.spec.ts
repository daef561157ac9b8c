import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
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
import { loadStep, objectLayout } from '@org/pipeline';
import { dataApiTargetParams } from '@org/redshift-adapter';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeS3 } from '../test/fake-s3';
import { defaultKeyPolicy, deniedRequests, iamRequestsFor, resolveIntrinsics, sdkCallRecorder, type SentCommand } from '../test/iam-proof';
import { DEPLOY_MODES } from '../test/deploy-modes';
import { readAwsConfig } from './aws-config';
import type { LambdaEnvironment } from './environment';
import { buildServiceConfig, optionsFromArgv, pipelineEnvironment, readParams } from './service-config';
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
import { handler as verifyHandler } from './handlers/verify';

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
  const verify = recorded('Verify', verifyHandler);

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
    glue.on(GetPartitionsCommand).resolves({ Partitions: [] });
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
    // The load's batch (with the dashboard's views), then Looker Studio's views, then the data health as of this load.
    expect(redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.StatementName)).toEqual([
      'rewards-pipeline-load',
      'rewards-pipeline-report-views',
      'rewards-pipeline-data-health',
    ]);
    // The health kept for Looker Studio names this run, read from its manifest in the lake.
    expect(sqls.find((sql) => sql.startsWith('INSERT INTO "rewards"."health_runs"'))).toContain(`'${runId}'`);
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

  it("quarantines text longer than Redshift's VARCHAR (bytes, not characters) at transform, with the reason, instead of failing the load", async () => {
    const runId = '20260630T130000000Z-exec03';
    await extract({ runId, mode: 'incremental' });
    const rawKey = [...storage.objects.keys()].find((key) => key.includes('/raw/transactions/') && key.includes(runId)) as string;
    expect(storage.text(rawKey).split('\n')[0]).toBe('id,model,user_id,currency,amount,date,type,is_debit,description');
    // 2,049 characters of 2 bytes each: 4,098 bytes, past VARCHAR(4096), though within 4,096 characters.
    const long = 'é'.repeat(2049);
    storage.objects.set(
      rawKey,
      Buffer.from(`${storage.text(rawKey).trimEnd()}\nlong-text,card,u1,GBP,-1250,2026-06-29T10:00:00Z,PURCHASE,true,${long}\n`),
    );
    await transform({ runId });
    const rejectsKey = [...storage.objects.keys()].find(
      (key) => key.includes('/quarantine/transactions/') && key.includes(runId),
    ) as string;
    expect(storage.text(rejectsKey)).toContain(
      `long-text,card,u1,GBP,-1250,2026-06-29T10:00:00Z,PURCHASE,true,${long},"description is longer than 4096 bytes, the warehouse's limit"`,
    );
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest.quality.transactions.rejectedByReason).toEqual({ "description is longer than 4096 bytes, the warehouse's limit": 1 });
    await recordFailure({ runId, error: { Error: 'Stopped', Cause: JSON.stringify({ errorMessage: 'test run ends here' }) } });
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

  it('rebuilds the warehouse from the loaded runs as the state machine runs it: a new schema beside the old, one task per batch of runs, then one swap', async () => {
    redshift.resetHistory();
    glue.resetHistory();
    const runId = '20260702T120000000Z-rebuild';
    // Rebuild, then each item of the Map, then RebuildFinish: one Lambda invocation each.
    const plan = (await rebuild({ runId })) as { runId: string; total: number; batches: object[] };
    expect(plan).toEqual({ runId, total: 1, batches: [{ runId, phase: 'runs', runs: [expect.any(String)], first: 0, total: 1 }] });
    for (const batch of plan.batches) expect(await rebuild(batch as never)).toEqual({ runId });
    expect(await rebuild({ runId, phase: 'finish' } as never)).toEqual({ runId });
    const batches = redshift.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.Sqls ?? []);
    // The old schema is never emptied: the rebuild is made in its own, and swapped in by one batch at the end.
    expect(batches[0]).toEqual(['DROP SCHEMA IF EXISTS "rewards__rebuild" CASCADE', 'CREATE SCHEMA "rewards__rebuild"']);
    const loads = batches.filter((sqls) => sqls.some((sql) => sql.startsWith('CREATE TEMP TABLE "staging_transactions"')));
    expect(loads.map((sqls) => sqls.filter((sql) => sql.startsWith('COPY')).length)).toEqual([0, 2, 0]);
    for (const sqls of loads)
      expect(sqls.filter((sql) => /(^|[^.])"rewards"\."(transactions|rewards|reward_facts|load_ledger|v_\w+)"/.test(sql))).toEqual([]);
    const swap = batches.at(-1) ?? [];
    expect(swap.slice(0, 4)).toEqual([
      'DROP SCHEMA IF EXISTS "rewards__old" CASCADE',
      'CREATE SCHEMA IF NOT EXISTS "rewards"',
      'ALTER SCHEMA "rewards" RENAME TO "rewards__old"',
      'ALTER SCHEMA "rewards__rebuild" RENAME TO "rewards"',
    ]);
    expect(swap.at(-1)).toBe('DROP SCHEMA "rewards__old" CASCADE');
    expect(glue).toHaveReceivedCommandWith(BatchCreatePartitionCommand, { TableName: 'transactions' });
    const manifest = JSON.parse(storage.text(`rewards-data/pipeline/runs/${runId}/manifest.json`));
    expect(manifest).toMatchObject({ mode: 'rebuild', status: 'succeeded', steps: { rebuild: { counts: { runs_replayed: 1 } } } });
    expect(storage.objects.has('rewards-data/pipeline/state/lock.json')).toBe(false);
  });

  it('verifies: reads the manifests, the warehouse, the catalog and Plutus, and fails on the differences it finds', async () => {
    // The mocked warehouse's answers are not a real ledger: the verification finds differences, after making every call.
    await expect(verify({ runId: '20260703T120000000Z-verify' })).rejects.toMatchObject({ name: 'VerificationFailedError' });
    const sent = new Set(sdk.sent['Verify']?.map((command) => command.name));
    for (const name of ['GetObject', 'ListObjectsV2', 'ExecuteStatement', 'GetPartitions', 'GetSecretValue'])
      expect([name, sent.has(name)]).toEqual([name, true]);
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
      // Plan reads the Plutus secret (a backfill skips the months before the source's first transaction).
      expect(Object.keys(sdk.sent).sort()).toEqual([
        'Catalog',
        'Commit',
        'Extract',
        'Load',
        'Plan',
        'Rebuild',
        'RecordFailure',
        'Transform',
        'Verify',
      ]);
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
  // Every documented deploy mode: the calls the handlers made, sent as that mode's functions would send them (its
  // warehouse sign-in, its secrets, its prefix), against that mode's roles. The Data API's own checks behind a
  // statement (GetCredentials, GetClusterCredentials[WithIAM], the secret and its key) are requests too.
  const RECORDED = { prefix: 'pipeline/', plutusSecret: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:plutus' };
  const WITH_SUFFIX = /-[A-Za-z0-9]{6}$/;
  it.each(DEPLOY_MODES.map((mode) => [mode.name, mode.args] as const))(
    '%s: every call each handler made, signed in as this mode signs in, is allowed by its own role (IAM simulated)',
    async (_name, args) => {
      const options = optionsFromArgv(args);
      const config = buildServiceConfig(options);
      const params = readParams(options);
      const stage = config['provider'].stage as string;
      const refs: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': 'eu-west-2',
        'AWS::AccountId': '123456789012',
        'AWS::StackName': `rewards-pipeline-${stage}`,
        DataBucket: 'rewards-data',
        'DataBucket.Arn': 'arn:aws:s3:::rewards-data',
        GlueDatabase: 'rewards_dev',
        PlutusSecret: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:PlutusSecret-Q1w2E3',
        RedshiftAdminSecret: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:RedshiftAdminSecret-R4t5Y6',
        ReportingUserSecret: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:ReportingUserSecret-U7i8O9',
        'LookerStudioSecurityGroup.GroupId': 'sg-0aaaaaaaaaaaaaaaa',
        'RedshiftWorkgroup.Workgroup.WorkgroupArn':
          'arn:aws:redshift-serverless:eu-west-2:123456789012:workgroup/11111111-2222-3333-4444-555555555555',
        'RedshiftCopyRole.Arn': 'arn:aws:iam::123456789012:role/copy',
        'PlutusSandboxLambdaFunctionUrl.FunctionUrl': 'https://sandbox.lambda-url.eu-west-2.on.aws/',
      };
      const deployed = readAwsConfig({
        ...(resolveIntrinsics(pipelineEnvironment(params, stage, config['provider'].region as string), refs) as LambdaEnvironment),
        AWS_REGION: 'eu-west-2',
      });
      const target = Object.fromEntries(
        Object.entries(dataApiTargetParams(deployed.redshift.target)).filter(([, value]) => value !== undefined),
      );
      // A secret named without its six random characters still has them: IAM decides on the full ARN.
      const plutusSecret = WITH_SUFFIX.test(deployed.plutusSecretArn) ? deployed.plutusSecretArn : `${deployed.plutusSecretArn}-AbCdEf`;
      const asDeployed = (command: SentCommand): SentCommand => {
        const input: Record<string, unknown> = { ...command.input };
        for (const field of ['Key', 'Prefix'])
          if (typeof input[field] === 'string') input[field] = deployed.prefix + (input[field] as string).replace(RECORDED.prefix, '');
        if (command.name === 'ExecuteStatement' || command.name === 'BatchExecuteStatement') {
          for (const field of ['WorkgroupName', 'ClusterIdentifier', 'DbUser', 'SecretArn']) delete input[field];
          Object.assign(input, target);
        }
        if (command.name === 'GetSecretValue' && input['SecretId'] === RECORDED.plutusSecret) input['SecretId'] = plutusSecret;
        return { name: command.name, input };
      };
      const workgroupArn = params.createRedshiftServerless
        ? refs['RedshiftWorkgroup.Workgroup.WorkgroupArn']
        : params.redshiftWorkgroupArn ||
          'arn:aws:redshift-serverless:eu-west-2:123456789012:workgroup/0f1e2d3c-aaaa-bbbb-cccc-123456789012';
      const facts = {
        partition: 'aws',
        region: 'eu-west-2',
        accountId: '123456789012',
        workgroupArns: 'workgroupName' in deployed.redshift.target ? { [deployed.redshift.target.workgroupName]: workgroupArn } : {},
        secretKeys: params.plutusSecretKmsKeyArn ? { [plutusSecret]: params.plutusSecretKmsKeyArn } : {},
      };
      // The template as the framework writes it: the config's resources, and each function's role.
      const template = {
        Resources: {
          ...config['resources'].Resources,
          ...Object.fromEntries(
            Object.entries(config['functions'] as Record<string, { role: string }>).map(([name, fn]) => [
              `${name[0].toUpperCase()}${name.slice(1)}LambdaFunction`,
              { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': [fn.role, 'Arn'] } } },
            ]),
          ),
        },
      };
      // A restarted extract deletes the raw parts of its cut-off attempt (RawPartWriter.restart): too rare to happen
      // in the handler run above, so it is asked here as the request it is.
      const restart: SentCommand = {
        name: 'DeleteObject',
        input: {
          Bucket: 'rewards-data',
          Key: `${RECORDED.prefix}${objectLayout.raw('rewards', '2026-06-30', '20260630T120000000Z-exec01', 0)}`,
        },
      };
      // With lookerStudioAccess the loader reads the reporting user's secret (redshiftWarehousePort) before each load
      // and rebuild: asked here as the request it is, for the loader's tasks and, to be refused, for extract's.
      const reportingSecret: SentCommand = { name: 'GetSecretValue', input: { SecretId: refs['ReportingUserSecret'] } };
      const loaderExtra = params.lookerStudioAccess ? [reportingSecret] : [];
      const sent: Record<string, SentCommand[]> = {
        ...sdk.sent,
        Extract: [...(sdk.sent['Extract'] ?? []), restart],
        Load: [...(sdk.sent['Load'] ?? []), ...loaderExtra],
        Rebuild: [...(sdk.sent['Rebuild'] ?? []), ...loaderExtra],
      };
      if (params.lookerStudioAccess) {
        const asExtract = iamRequestsFor(asDeployed(reportingSecret), facts);
        expect(await deniedRequests(template, 'ExtractLambdaFunction', asExtract, refs, '123456789012', {})).toHaveLength(asExtract.length);
      }
      const signIns = new Set<string>();
      for (const [task, commands] of Object.entries(sent)) {
        const requests = commands.map(asDeployed).flatMap((command) => iamRequestsFor(command, facts));
        for (const request of requests)
          if (request.note?.includes('signs in') || request.action.startsWith('kms:')) signIns.add(request.action);
        const keyPolicies = params.plutusSecretKmsKeyArn ? { [params.plutusSecretKmsKeyArn]: defaultKeyPolicy('123456789012') } : {};
        expect({
          task,
          denied: await deniedRequests(template, `${task}LambdaFunction`, requests, refs, '123456789012', keyPolicies),
        }).toEqual({ task, denied: [] });
      }
      const expected = params.createRedshiftServerless
        ? 'secretsmanager:GetSecretValue'
        : params.redshiftClusterId
          ? params.redshiftDbUser
            ? 'redshift:GetClusterCredentials'
            : 'redshift:GetClusterCredentialsWithIAM'
          : 'redshift-serverless:GetCredentials';
      expect(signIns).toContain(expected);
      if (params.plutusSecretKmsKeyArn) expect(signIns).toContain('kms:Decrypt');
    },
  );
});
