import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageService } from '../test/package-service';
import { buildStateMachineDefinition, PIPELINE_TASKS, type PipelineTask, type StateMachineResources } from '@org/pipeline';

jest.setTimeout(180_000);

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Principal?: unknown };

const FUNCTION_OF_TASK: Record<PipelineTask, string> = {
  Plan: 'Plan',
  Rebuild: 'Rebuild',
  Extract: 'Extract',
  Transform: 'Transform',
  Catalog: 'Catalog',
  Load: 'Load',
  Commit: 'Commit',
  RecordFailure: 'RecordFailure',
  Verify: 'Verify',
};

// `serverless package` runs offline with no credentials; these tests read the CloudFormation it produced.
// Each zip's digest, to compare with the next package of the same code.
const zipDigests = new Map<string, string>();

describe('serverless package', () => {
  const out = mkdtempSync(join(tmpdir(), 'sls-package-'));
  let resources: Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

  beforeAll(() => {
    resources = packageService(out, [
      '--stage',
      'test',
      '--param=redshiftWorkgroup=analytics',
      '--param=alarmEmail=ops@example.com',
    ]).Resources;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('defines every function on nodejs22.x, arm64, with its own role (load and rebuild: one, the loader)', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      Object.values(FUNCTION_OF_TASK)
        .map((name) => `${name}LambdaFunction`)
        .sort(),
    );
    for (const [id, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const role = /^(Load|Rebuild)LambdaFunction$/.test(id) ? 'LoaderRole' : id.replace('LambdaFunction', 'Role');
      expect(fn.Properties['Role']).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    }
  });

  it("deploys @org/pipeline's state machine definition, with the functions' ARNs substituted", () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine');
    const [text, variables] = (
      machine.Properties['DefinitionString'] as { 'Fn::Sub': [string, Record<string, { 'Fn::GetAtt': [string, string] }>] }
    )['Fn::Sub'];
    const substituted = text.replace(/\$\{(\w+)\}/g, (_, name: string) => `arn:test:${variables[name]['Fn::GetAtt'][0]}`);
    const expected = buildStateMachineDefinition(
      Object.fromEntries(
        Object.entries(FUNCTION_OF_TASK).map(([task, fn]) => [task, `arn:test:${fn}LambdaFunction`]),
      ) as StateMachineResources,
    );
    expect(JSON.parse(substituted)).toEqual(expected);
    expect(PIPELINE_TASKS.every((task) => substituted.includes(`"${task}"`))).toBe(true);
  });

  it('encrypts the alarm topic with a key CloudWatch alarms may use (never the AWS-managed alias/aws/sns)', () => {
    const topic = resources['AlarmTopic'].Properties;
    expect(topic['KmsMasterKeyId']).toEqual({ Ref: 'AlarmTopicKey' });
    const policy = resources['AlarmTopicKey'].Properties['KeyPolicy'] as { Statement: (Statement & { Condition?: unknown })[] };
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
  });

  it('schedules the pipeline daily and alarms on failed executions', () => {
    const [[, rule]] = ofType('AWS::Events::Rule');
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms.some((alarm) => alarm['MetricName'] === 'ExecutionsFailed')).toBe(true);
    expect(ofType('AWS::SNS::Subscription')[0][1].Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('encrypts the data bucket, blocks public access, requires TLS and expires raw data', () => {
    const bucket = resources['DataBucket'].Properties;
    expect(bucket['BucketEncryption']).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }],
    });
    expect(bucket['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket['LifecycleConfiguration'])).toContain('"Prefix":"raw/","ExpirationInDays":90');
    const policy = resources['DataBucketPolicy'].Properties['PolicyDocument'] as { Statement: (Statement & { Condition: unknown })[] };
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('keeps the Plutus credentials in Secrets Manager, referenced by ARN', () => {
    expect(resources['PlutusSecret'].Type).toBe('AWS::SecretsManager::Secret');
    expect(resources['PlutusSecret'].Properties['SecretString']).toBe('{"idToken": ""}');
    const env = (resources['ExtractLambdaFunction'].Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(env['PLUTUS_SECRET_ARN']).toEqual({ Ref: 'PlutusSecret' });
  });

  it('grants no wildcard action, and scopes resources to the bucket prefixes, database, secret and workgroup', () => {
    const allows: Statement[] = [];
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const policy of (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]) ?? []) {
        allows.push(...policy.PolicyDocument.Statement.filter((statement) => statement.Effect === 'Allow'));
      }
    }
    expect(allows.length).toBeGreaterThan(10);
    for (const statement of allows) {
      for (const action of ([] as string[]).concat(statement.Action)) expect(action).not.toMatch(/(^\*$|:\*$)/);
    }
    const starResources = allows.filter((statement) => statement.Resource === '*');
    // Only actions AWS offers no resource-level scoping for: the Data API's statement reads (limited to the
    // caller's own statements) and X-Ray tracing of the state machine and of every function.
    expect([...new Set(starResources.flatMap((statement) => statement.Action))].sort()).toEqual([
      'redshift-data:DescribeStatement',
      'redshift-data:GetStatementResult',
      'redshift-data:ListStatements',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // Every function traces to X-Ray (Powertools Tracer): active tracing, and the role may send segments.
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(9);
    for (const [name, fn] of functions) expect([name, fn.Properties['TracingConfig']]).toEqual([name, { Mode: 'Active' }]);
    for (const role of [
      'PlanRole',
      'ExtractRole',
      'TransformRole',
      'LoaderRole',
      'CatalogRole',
      'CommitRole',
      'RecordFailureRole',
      'VerifyRole',
    ]) {
      const [policy] = resources[role].Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[];
      expect(policy.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
    // Every role that writes objects (in parts, for large ones) may abort a failed multipart upload.
    for (const role of ['ExtractRole', 'TransformRole'])
      expect(JSON.stringify(resources[role].Properties)).toContain('s3:AbortMultipartUpload');
    const extract = JSON.stringify(resources['ExtractRole'].Properties);
    expect(extract).toContain('secretsmanager:GetSecretValue');
    expect(extract).not.toContain('glue:');
    // The source check counts the warehouse's transactions before the window.
    expect(extract).toContain('redshift-data:ExecuteStatement');
    expect(JSON.stringify(resources['CatalogRole'].Properties)).toContain('database/${GlueDatabase}');
    // Plan touches no data (it reads the source's counts for a backfill); Load and Rebuild share one role, with what they and Catalog need together.
    expect(JSON.stringify(resources['PlanRole'].Properties)).not.toMatch(/s3:|glue:|redshift/);
    expect(JSON.stringify(resources['PlanRole'].Properties)).toContain('secretsmanager:GetSecretValue');
    expect(resources['RebuildLambdaFunction'].Properties['Role']).toEqual(resources['LoadLambdaFunction'].Properties['Role']);
    const rebuildRole = JSON.stringify(resources['LoaderRole'].Properties);
    for (const action of ['redshift-data:BatchExecuteStatement', 'glue:BatchCreatePartition', 's3:GetObject'])
      expect(rebuildRole).toContain(action);
    // Verify reads the warehouse, the catalog's partitions and the source.
    const verifyRole = JSON.stringify(resources['VerifyRole'].Properties);
    for (const action of ['redshift-data:ExecuteStatement', 'glue:GetPartitions', 'secretsmanager:GetSecretValue', 's3:GetObject'])
      expect(verifyRole).toContain(action);
  });

  it('alarms on a difference the daily verification found, on the metric the Verify function publishes', () => {
    expect(resources['ReconciliationAlarm'].Properties).toMatchObject({
      Namespace: 'RewardsPipeline',
      MetricName: 'ReconciliationDifferences',
      Dimensions: [
        { Name: 'service', Value: 'rewards-pipeline' },
        { Name: 'task', Value: 'Verify' },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    const rules = ofType('AWS::Events::Rule').map(([, rule]) => JSON.stringify(rule.Properties['Targets']));
    expect(rules.some((targets) => targets.includes('\\"mode\\":\\"verify\\"'))).toBe(true);
  });

  it('packs each function small, with only what it imports, and each bundle loads', () => {
    const zips = readdirSync(out).filter((name) => name.endsWith('.zip'));
    const sizes = Object.fromEntries(zips.map((zip) => [zip.replace('.zip', ''), statSync(join(out, zip)).size]));
    expect(sizes['transform']).toBeLessThan(10 * 1024 * 1024);
    for (const name of ['plan', 'extract', 'catalog', 'load', 'commit', 'recordFailure', 'rebuild', 'verify'])
      expect(sizes[name]).toBeLessThan(3 * 1024 * 1024);
    const listing = (zip: string) =>
      execFileSync('unzip', ['-Z1', join(out, zip)], { encoding: 'utf8' })
        .trim()
        .split('\n');
    expect(listing('transform.zip').sort()).toEqual(['src/handlers/parquet_wasm_bg.wasm', 'src/handlers/transform.js']);
    // Only the bundle that kept parquet-wasm's code carries its 5 MB .wasm.
    for (const zip of zips.filter((name) => name !== 'transform.zip'))
      expect({ zip, files: listing(zip) }).toEqual({ zip, files: [expect.stringMatching(/^src\/handlers\/[a-z-]+\.js$/)] });
    for (const zip of zips)
      zipDigests.set(
        zip,
        createHash('sha256')
          .update(readFileSync(join(out, zip)))
          .digest('hex'),
      );
    const unpacked = join(out, 'unpacked');
    for (const zip of zips) {
      mkdirSync(join(unpacked, zip), { recursive: true });
      execFileSync('unzip', ['-q', '-o', join(out, zip), '-d', join(unpacked, zip)]);
    }
    for (const zip of zips) {
      const file = readdirSync(join(unpacked, zip, 'src', 'handlers')).find((name) => name.endsWith('.js')) as string;
      const loaded = spawnSync(
        process.execPath,
        [
          '-e',
          `const h = require(${JSON.stringify(join(unpacked, zip, 'src', 'handlers', file))}); if (typeof h.handler !== 'function') process.exit(3)`,
        ],
        { encoding: 'utf8' },
      );
      expect({ zip, status: loaded.status, stderr: loaded.stderr }).toEqual({ zip, status: 0, stderr: '' });
    }
  });
});

// The trial stage packaged as a user would deploy it: the sandbox is a tenth function with its own bundle and a
// URL, and no pipeline bundle carries the sandbox.
describe('serverless package --param="plutusSandbox=true"', () => {
  const out = mkdtempSync(join(tmpdir(), 'sls-package-trial-'));
  let resources: Record<string, Resource>;

  beforeAll(() => {
    resources = packageService(out, ['--stage', 'trial', '--param=createRedshiftServerless=true', '--param=plutusSandbox=true']).Resources;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('adds the sandbox function behind a public URL, and extract reads from that URL', () => {
    expect(resources['PlutusSandboxLambdaFunctionUrl']).toMatchObject({ Type: 'AWS::Lambda::Url', Properties: { AuthType: 'NONE' } });
    const extractEnv = (resources['ExtractLambdaFunction'].Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(extractEnv['PLUTUS_BASE_URL']).toEqual({ 'Fn::GetAtt': ['PlutusSandboxLambdaFunctionUrl', 'FunctionUrl'] });
    const sandboxEnv = (resources['PlutusSandboxLambdaFunction'].Properties['Environment'] as { Variables: Record<string, unknown> })
      .Variables;
    expect(sandboxEnv['SANDBOX_SECRET_ARN']).toEqual({ Ref: 'PlutusSecret' });
    expect(JSON.stringify(resources['PlutusSandboxLambdaFunction'])).not.toContain('PlutusSandboxLambdaFunctionUrl');
  });

  it("packs the sandbox alone: its bundle has it, the pipeline's nine do not", () => {
    const zips = readdirSync(out).filter((name) => name.endsWith('.zip'));
    expect(zips).toHaveLength(10);
    const unpacked = join(out, 'unpacked');
    const bundleText = (zip: string) => {
      mkdirSync(join(unpacked, zip), { recursive: true });
      execFileSync('unzip', ['-q', '-o', join(out, zip), '-d', join(unpacked, zip)]);
      const file = readdirSync(join(unpacked, zip, 'src', 'handlers')).find((name) => name.endsWith('.js')) as string;
      return readFileSync(join(unpacked, zip, 'src', 'handlers', file), 'utf8');
    };
    // Function names survive minification (keepNames): the sandbox's history generator marks its code.
    expect(bundleText('plutusSandbox.zip')).toContain('generateHistory');
    for (const zip of zips.filter((name) => name !== 'plutusSandbox.zip'))
      expect({ zip, carries: bundleText(zip).includes('generateHistory') }).toEqual({ zip, carries: false });
    expect(statSync(join(out, 'plutusSandbox.zip')).size).toBeLessThan(3 * 1024 * 1024);
  });

  it('zips the same code into the same bytes, so an unchanged function keeps its code hash', () => {
    expect(zipDigests.size).toBe(9);
    for (const [zip, digest] of zipDigests)
      expect({
        zip,
        digest: createHash('sha256')
          .update(readFileSync(join(out, zip)))
          .digest('hex'),
      }).toEqual({ zip, digest });
  });
});
