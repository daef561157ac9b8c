// The Serverless Framework service (osls, the maintained v3 fork) for the rewards pipeline, built in TypeScript so the state machine comes
// from @org/pipeline's definition (the one the local runner runs), not from a second, hand-written copy, and the
// functions' environment is typed by the contract `aws-config.ts` reads (environment.ts).
// serverless.js calls buildServiceConfig with the command line's --stage, --region and --param values.
import { buildStateMachineDefinition, PipelineError, STATE_MACHINE_LIMITS, type StateMachineResources } from '@org/pipeline';
import type { CfnString, PipelineEnvironment, SandboxEnvironment } from './environment';
import { METRICS_NAMESPACE, SERVICE_NAME } from './observability-names';

/** A CloudFormation fragment: this module builds them as plain data. */
type Cfn = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A `--param`, stage or region the stack cannot be built from: reported by `serverless package`, before AWS. */
export class ServiceConfigError extends PipelineError {}

export interface ServiceOptions {
  stage?: string;
  region?: string;
  param: string[];
}

const DEFAULTS: Record<string, string> = {
  schedule: 'rate(1 day)',
  scheduleEnabled: 'true',
  alarmEmail: '',
  lookbackDays: '7',
  rawRetentionDays: '90',
  dataPrefix: '',
  plutusSecretArn: '',
  plutusBaseUrl: '',
  redshiftWorkgroup: '',
  redshiftWorkgroupArn: '',
  redshiftClusterId: '',
  redshiftDbUser: '',
  redshiftDatabase: 'dev',
  redshiftSchema: 'rewards',
  createRedshiftServerless: 'false',
  redshiftBaseCapacity: '8',
  // A created workgroup in an account without a default VPC (or to keep it off the default one): comma lists.
  redshiftSubnetIds: '',
  redshiftSecurityGroupIds: '',
  // `true`: `serverless remove` leaves a final snapshot of a created namespace (billed as backup storage until
  // deleted). Default none: the warehouse can be rebuilt from the lake (`{"mode": "rebuild"}`).
  redshiftFinalSnapshot: 'false',
  // A trial stage without a Plutus account: the Plutus sandbox as a function behind a URL, synthetic data only.
  plutusSandbox: 'false',
  plutusSandboxHistoryStart: '2024-01-01T00:00:00Z',
};

// The trial stage's sign-in: a password CloudFormation generates (never in the template), and a fixed TOTP seed
// (the sandbox's second factor guards nothing the password does not).
const SANDBOX_SECRET_TEMPLATE = JSON.stringify({ email: 'trial@plutus-sandbox.invalid', totpSecret: 'KRUGS4ZANFZSAYJAORZGSYLM' });

// Redshift's naming rules, checked before CloudFormation meets them halfway through a deploy.
const NAME_RULES: Record<string, [RegExp, string]> = {
  redshiftWorkgroup: [/^[a-z0-9-]{3,64}$/, 'a workgroup name is 3 to 64 lowercase letters, digits and hyphens'],
  redshiftClusterId: [
    /^(?!.*--)[a-z][a-z0-9-]{0,62}(?<!-)$/,
    'a cluster identifier is 1 to 63 lowercase letters, digits and hyphens, starts with a letter, with no two hyphens in a row and no hyphen at the end',
  ],
  redshiftDatabase: [
    /^[a-z_][a-z0-9_$]{0,126}$/,
    'a database name is 1 to 127 lowercase letters, digits, _ or $, not starting with a digit',
  ],
  redshiftSchema: [/^[A-Za-z_][A-Za-z0-9_]{0,126}$/, 'the schema is a plain identifier: letters, digits and _, not starting with a digit'],
  redshiftDbUser: [
    /^[a-z_][a-z0-9_$.@+-]{0,126}$/,
    'a database user name is 1 to 127 lowercase letters, digits or _ $ . @ + -, not starting with a digit',
  ],
};
const ID_LIST = /^$|^(subnet|sg)-[0-9a-f]{8,17}(,(subnet|sg)-[0-9a-f]{8,17})*$/;

/** The stage becomes part of Redshift, Glue, IAM and state-machine names: the strictest (Redshift) rules all. */
function checkStage(stage: string): void {
  // rewards-<stage>-recordFailure is the longest role name (64 max); rewards-<stage> the namespace (3..64).
  if (!/^[a-z][a-z0-9-]{0,29}$/.test(stage) || stage.endsWith('-') || stage.includes('--')) {
    throw new ServiceConfigError(
      `The stage becomes part of Redshift and IAM names: 1 to 30 lowercase letters, digits and single hyphens, starting with a letter; got ${JSON.stringify(stage)}`,
    );
  }
}

/** The `--param` values, validated, with the switches as booleans. */
export interface Params {
  schedule: string;
  scheduleEnabled: boolean;
  alarmEmail: string;
  lookbackDays: string;
  rawRetentionDays: string;
  dataPrefix: string;
  plutusSecretArn: string;
  plutusBaseUrl: string;
  redshiftWorkgroup: string;
  redshiftWorkgroupArn: string;
  redshiftClusterId: string;
  redshiftDbUser: string;
  redshiftDatabase: string;
  redshiftSchema: string;
  createRedshiftServerless: boolean;
  redshiftBaseCapacity: string;
  redshiftSubnetIds: string;
  redshiftSecurityGroupIds: string;
  redshiftFinalSnapshot: boolean;
  plutusSandbox: boolean;
  plutusSandboxHistoryStart: string;
}

/** `--param="k=v"` pairs over the defaults, validated once. */
export function readParams(options: ServiceOptions): Params {
  const given = ([] as string[]).concat(options.param || []).map((pair): [string, string] => {
    const at = pair.indexOf('=');
    if (at < 1) throw new ServiceConfigError(`--param must be key=value, got ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  });
  for (const [key] of given)
    if (!(key in DEFAULTS)) throw new ServiceConfigError(`Unknown --param ${key}; known: ${Object.keys(DEFAULTS).join(', ')}`);
  const raw: Record<string, string> = { ...DEFAULTS, ...Object.fromEntries(given) };
  const value = (key: string) => raw[key] ?? '';
  // The store writes `<prefix>/runs/...`: a prefix without its slash would give IAM `pipelineruns/*` and a
  // lifecycle rule on `pipelineraw/`, which match nothing the pipeline writes.
  let dataPrefix = value('dataPrefix');
  if (dataPrefix) {
    if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(dataPrefix) || dataPrefix.startsWith('/') || dataPrefix.includes('//')) {
      throw new ServiceConfigError(
        `dataPrefix must be a plain S3 key prefix (letters, digits, - _ . / and no leading or double slash), got ${JSON.stringify(dataPrefix)}`,
      );
    }
    dataPrefix = dataPrefix.replace(/\/?$/, '/');
  }
  for (const [key, [rule, words]] of Object.entries(NAME_RULES)) {
    if (value(key) && !rule.test(value(key))) throw new ServiceConfigError(`--param ${key}: ${words}; got ${JSON.stringify(value(key))}`);
  }
  for (const [key, kind] of [
    ['redshiftSubnetIds', 'subnet'],
    ['redshiftSecurityGroupIds', 'sg'],
  ] as const) {
    if (
      !ID_LIST.test(value(key)) ||
      value(key)
        .split(',')
        .some((id) => id && !id.startsWith(`${kind}-`))
    ) {
      throw new ServiceConfigError(`--param ${key} is a comma list of ${kind}-… ids, got ${JSON.stringify(value(key))}`);
    }
  }
  const capacity = Number(value('redshiftBaseCapacity'));
  if (!Number.isInteger(capacity) || capacity < 8 || capacity > 512 || capacity % 8) {
    throw new ServiceConfigError(
      `--param redshiftBaseCapacity is the workgroup's RPUs: 8 to 512 in steps of 8, got ${JSON.stringify(value('redshiftBaseCapacity'))}`,
    );
  }
  const params: Params = {
    ...(raw as unknown as Params),
    dataPrefix,
    createRedshiftServerless: value('createRedshiftServerless') === 'true',
    redshiftFinalSnapshot: value('redshiftFinalSnapshot') === 'true',
    plutusSandbox: value('plutusSandbox') === 'true',
    scheduleEnabled: value('scheduleEnabled') === 'true',
  };
  if (params.plutusSandbox && (params.plutusSecretArn || params.plutusBaseUrl)) {
    throw new ServiceConfigError(
      'plutusSandbox=true makes its own Plutus (the sandbox) and its secret: leave plutusSecretArn and plutusBaseUrl unset.',
    );
  }
  if (Number.isNaN(Date.parse(params.plutusSandboxHistoryStart))) {
    throw new ServiceConfigError(
      `--param plutusSandboxHistoryStart must be a date, got ${JSON.stringify(params.plutusSandboxHistoryStart)}`,
    );
  }
  if (!params.createRedshiftServerless && (params.redshiftSubnetIds || params.redshiftSecurityGroupIds || params.redshiftFinalSnapshot)) {
    throw new ServiceConfigError(
      'redshiftSubnetIds, redshiftSecurityGroupIds and redshiftFinalSnapshot apply to a workgroup the stack creates (createRedshiftServerless=true)',
    );
  }
  const targets = [params.redshiftWorkgroup, params.redshiftClusterId, params.createRedshiftServerless ? 'create' : ''].filter(Boolean);
  if (targets.length !== 1) {
    throw new ServiceConfigError(
      'Choose exactly one warehouse: --param="redshiftWorkgroup=NAME", --param="redshiftClusterId=ID" (with redshiftDbUser), or --param="createRedshiftServerless=true".',
    );
  }
  return params;
}

export const FUNCTIONS: Record<string, { task: string; handler: string; memorySize: number; timeout?: number }> = {
  plan: { task: 'Plan', handler: 'src/handlers/plan.handler', memorySize: 256 },
  extract: { task: 'Extract', handler: 'src/handlers/extract.handler', memorySize: 1024 },
  transform: { task: 'Transform', handler: 'src/handlers/transform.handler', memorySize: 3008 },
  catalog: { task: 'Catalog', handler: 'src/handlers/catalog.handler', memorySize: 512 },
  load: { task: 'Load', handler: 'src/handlers/load.handler', memorySize: 512 },
  commit: { task: 'Commit', handler: 'src/handlers/commit.handler', memorySize: 512 },
  recordFailure: { task: 'RecordFailure', handler: 'src/handlers/record-failure.handler', memorySize: 512 },
  rebuild: { task: 'Rebuild', handler: 'src/handlers/rebuild.handler', memorySize: 512 },
  verify: { task: 'Verify', handler: 'src/handlers/verify.handler', memorySize: 512 },
};

/** The trial stage's Plutus sandbox: its own function and bundle, so no pipeline bundle ever carries it. */
const SANDBOX_FUNCTION = { task: 'PlutusSandbox', handler: 'src/handlers/plutus-sandbox.handler', memorySize: 512, timeout: 30 };

function functionsFor(params: Params): typeof FUNCTIONS {
  return params.plutusSandbox ? { ...FUNCTIONS, plutusSandbox: SANDBOX_FUNCTION } : FUNCTIONS;
}

const bucketArn = { 'Fn::GetAtt': ['DataBucket', 'Arn'] };
const objects = (prefix: string, dataPrefix: string): Cfn => ({ 'Fn::Join': ['', [bucketArn, `/${dataPrefix}${prefix}*`]] });
const logGroupArn = (name: string): Cfn => ({
  'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-${name}:*`,
});

/** Least privilege per function: only the object prefixes, catalog entries, secret and warehouse it uses. */
function policyFor(name: string, params: Params): Cfn {
  const p = params.dataPrefix;
  const list = (prefixes: string[]): Cfn => ({
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: bucketArn,
    Condition: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${p}${prefix}*`) } },
  });
  const rw = (prefixes: string[], actions: string[]): Cfn => ({
    Effect: 'Allow',
    Action: actions,
    Resource: prefixes.map((prefix) => objects(prefix, p)),
  });
  const logs = { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroupArn(name) };
  const glueStatement = {
    Effect: 'Allow',
    Action: [
      'glue:GetDatabase',
      'glue:CreateDatabase',
      'glue:GetTable',
      'glue:CreateTable',
      'glue:UpdateTable',
      'glue:BatchCreatePartition',
      'glue:GetPartitions',
    ],
    Resource: [
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${GlueDatabase}' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/*' },
    ],
  };
  const runState = [rw(['runs/', 'state/'], ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']), list(['runs/', 'state/'])];
  const statements = {
    extract: [
      ...runState,
      // Large objects go up in parts (lib-storage): a failed upload must be able to abort its parts.
      rw(['raw/'], ['s3:PutObject', 's3:AbortMultipartUpload']),
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: params.plutusSecretArn || { Ref: 'PlutusSecret' } },
      // The source check reads the warehouse's counts of transactions before the run's window.
      ...warehouseStatements(params),
    ],
    transform: [
      ...runState,
      rw(['raw/'], ['s3:GetObject']),
      rw(['curated/'], ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload']),
      rw(['quarantine/'], ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']),
      list(['curated/', 'quarantine/']),
    ],
    catalog: [...runState, glueStatement],
    load: [...runState, ...warehouseStatements(params), glueStatement],
    commit: runState,
    recordFailure: runState,
    // Plan only reads its input: no data access at all.
    plan: [],
    // The trial stage's sandbox reads the generated sign-in it checks; nothing of the pipeline's data.
    plutusSandbox: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'PlutusSecret' } }],
    rebuild: [...runState, ...warehouseStatements(params), glueStatement],
    // Verify reads the lake's manifests, the warehouse, the catalog and the source; it writes only its own manifest and the lock.
    verify: [
      ...runState,
      ...warehouseStatements(params),
      glueStatement,
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: params.plutusSecretArn || { Ref: 'PlutusSecret' } },
    ],
  }[name];
  if (!statements) throw new ServiceConfigError(`No policy for a function named ${name}`);
  // Active tracing (Powertools Tracer): X-Ray takes no resource-level permissions.
  const traces = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
  return { Version: '2012-10-17', Statement: [logs, traces, ...statements] };
}

/**
 * The created namespace's admin sign-in, a secret the stack owns: CloudFormation returns no attribute for the
 * secret Redshift would manage itself (`ManageAdminPassword`), so nothing could name it to the load function. The
 * namespace takes the password through a dynamic reference (resolved by CloudFormation, never in the template),
 * and the Data API signs in with the secret's `username` and `password`, so no grant is needed.
 */
const REDSHIFT_ADMIN_USER = 'rewards_admin';
const namespaceAdminSecret: CfnString = { Ref: 'RedshiftAdminSecret' };

function warehouseStatements(params: Params): Cfn[] {
  const adminSecret = params.createRedshiftServerless
    ? [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: namespaceAdminSecret }]
    : [];
  const statementScope = {
    // DescribeStatement, GetStatementResult and ListStatements take no resource ARN; the Data API limits them to the caller's own statements.
    Effect: 'Allow',
    Action: ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult', 'redshift-data:ListStatements'],
    Resource: '*',
  };
  if (params.redshiftClusterId) {
    const cluster = { 'Fn::Sub': `arn:\${AWS::Partition}:redshift:\${AWS::Region}:\${AWS::AccountId}:cluster:${params.redshiftClusterId}` };
    return [
      { Effect: 'Allow', Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'], Resource: cluster },
      // With a DbUser the Data API calls GetClusterCredentials for that user; without one it signs in as the
      // caller's IAM identity (IAMR:<role name>) through GetClusterCredentialsWithIAM, scoped to the database.
      params.redshiftDbUser
        ? {
            Effect: 'Allow',
            Action: ['redshift:GetClusterCredentials'],
            Resource: [
              {
                'Fn::Sub': `arn:\${AWS::Partition}:redshift:\${AWS::Region}:\${AWS::AccountId}:dbuser:${params.redshiftClusterId}/${params.redshiftDbUser}`,
              },
              {
                'Fn::Sub': `arn:\${AWS::Partition}:redshift:\${AWS::Region}:\${AWS::AccountId}:dbname:${params.redshiftClusterId}/${params.redshiftDatabase}`,
              },
            ],
          }
        : {
            Effect: 'Allow',
            Action: ['redshift:GetClusterCredentialsWithIAM'],
            Resource: {
              'Fn::Sub': `arn:\${AWS::Partition}:redshift:\${AWS::Region}:\${AWS::AccountId}:dbname:${params.redshiftClusterId}/${params.redshiftDatabase}`,
            },
          },
      statementScope,
    ];
  }
  // A workgroup's ARN ends in its id, not its name: pass redshiftWorkgroupArn to scope the grant to it exactly.
  const workgroup = params.createRedshiftServerless
    ? { 'Fn::GetAtt': ['RedshiftWorkgroup', 'Workgroup.WorkgroupArn'] }
    : params.redshiftWorkgroupArn || {
        'Fn::Sub': `arn:\${AWS::Partition}:redshift-serverless:\${AWS::Region}:\${AWS::AccountId}:workgroup/*`,
      };
  return [
    {
      Effect: 'Allow',
      Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement', 'redshift-serverless:GetCredentials'],
      Resource: workgroup,
    },
    statementScope,
    ...adminSecret,
  ];
}

/**
 * A role name that stays the same across replacements, so grants given to it in Redshift (as `IAMR:<name>`)
 * are never silently dropped: rewards-<stage>-<function>, within IAM's 64 characters.
 */
function roleNameFor(name: string, stage: string): string {
  return `rewards-${stage}-${name}`.slice(0, 64);
}

function roleFor(name: string, params: Params, stage: string): Cfn {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleNameFor(name, stage),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: `${name}-least-privilege`, PolicyDocument: policyFor(name, params) }],
    },
  };
}

function resources(params: Params, stage: string): Record<string, Cfn> {
  const r: Record<string, Cfn> = {
    DataBucket: {
      Type: 'AWS::S3::Bucket',
      // The lake outlives the stack: neither `serverless remove` nor a replacement deletes it.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'expire-raw',
              Status: 'Enabled',
              Prefix: `${params.dataPrefix}raw/`,
              ExpirationInDays: Number(params.rawRetentionDays),
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            },
            { Id: 'abort-incomplete-uploads', Status: 'Enabled', Prefix: '', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
          ],
        },
      },
    },
    DataBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'DataBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    GlueDatabase: {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: { Name: `rewards_${stage.replace(/[^a-z0-9_]/gi, '_')}`, Description: 'Card-rewards pipeline: curated Parquet' },
      },
    },
    RedshiftCopyRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: ['redshift.amazonaws.com', 'redshift-serverless.amazonaws.com'] },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'read-curated-parquet',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects('curated/', params.dataPrefix) },
                { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: bucketArn },
              ],
            },
          },
        ],
      },
    },
    // CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed key (alias/aws/sns): its key
    // policy cannot be changed to let them. A key of the stack's own, whose policy lets CloudWatch use it, can.
    AlarmTopicKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: 'Encrypts the rewards pipeline alarm topic; CloudWatch alarms may use it to publish.',
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountAdministers',
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
              Action: 'kms:*',
              Resource: '*',
            },
            {
              Sid: 'CloudWatchAlarmsPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
      },
    },
    AlarmTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { DisplayName: 'Rewards pipeline failures', KmsMasterKeyId: { Ref: 'AlarmTopicKey' } },
    },
    // A difference the daily verification found and no run's repair closed (the runbook: apps/aws/README.md,
    // "A reconciliation alarm"). The Verify function publishes ReconciliationDifferences (EMF, dimensions service
    // and task) whether it passes (0) or fails; a day's period is the longest one evaluation may cover.
    ReconciliationAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `rewards-pipeline-${stage}-reconciliation`,
        AlarmDescription:
          'The warehouse disagrees with the lake, or the lake with Plutus, in a way the pipeline could not repair. See the runbook in apps/aws/README.md ("A reconciliation alarm").',
        Namespace: METRICS_NAMESPACE,
        MetricName: 'ReconciliationDifferences',
        Dimensions: [
          { Name: 'service', Value: SERVICE_NAME },
          { Name: 'task', Value: 'Verify' },
        ],
        Statistic: 'Maximum',
        Period: 86_400,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      },
    },
  };
  if (params.alarmEmail) {
    r.AlarmEmailSubscription = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: params.alarmEmail },
    };
  }
  if (params.plutusSandbox) {
    r.PlutusSecret = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: "Sign-in of the trial stage's Plutus sandbox (synthetic data): read by the sandbox and by the pipeline.",
        GenerateSecretString: {
          SecretStringTemplate: SANDBOX_SECRET_TEMPLATE,
          GenerateStringKey: 'password',
          PasswordLength: 32,
          ExcludePunctuation: true,
        },
      },
    };
  } else if (!params.plutusSecretArn) {
    r.PlutusSecret = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description:
          'Plutus credentials for the rewards pipeline as JSON: {"idToken": "..."} or {"email", "password", "totpSecret"}. Set with `aws secretsmanager put-secret-value`.',
        SecretString: '{"idToken": ""}',
      },
    };
  }
  for (const name of Object.keys(functionsFor(params))) r[`${name[0].toUpperCase()}${name.slice(1)}Role`] = roleFor(name, params, stage);
  if (params.createRedshiftServerless) {
    r.RedshiftAdminSecret = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: `Admin sign-in of the rewards-${stage} Redshift Serverless namespace: the load and rebuild functions use it through the Data API.`,
        // Redshift's password rules: 8 to 64 printable ASCII characters with an upper- and a lowercase letter and a
        // digit, and none of ' " \\ / @ or space.
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ username: REDSHIFT_ADMIN_USER }),
          GenerateStringKey: 'password',
          PasswordLength: 32,
          ExcludeCharacters: `'"\\/@ `,
          RequireEachIncludedType: true,
        },
      },
    };
    r.RedshiftNamespace = {
      Type: 'AWS::RedshiftServerless::Namespace',
      Properties: {
        NamespaceName: `rewards-${stage}`,
        DbName: params.redshiftDatabase,
        AdminUsername: REDSHIFT_ADMIN_USER,
        AdminUserPassword: { 'Fn::Sub': '{{resolve:secretsmanager:${RedshiftAdminSecret}:SecretString:password}}' },
        DefaultIamRoleArn: { 'Fn::GetAtt': ['RedshiftCopyRole', 'Arn'] },
        IamRoles: [{ 'Fn::GetAtt': ['RedshiftCopyRole', 'Arn'] }],
        ...(params.redshiftFinalSnapshot ? { FinalSnapshotName: `rewards-${stage}-final` } : {}),
      },
    };
    r.RedshiftWorkgroup = {
      Type: 'AWS::RedshiftServerless::Workgroup',
      Properties: {
        WorkgroupName: `rewards-${stage}`,
        NamespaceName: { Ref: 'RedshiftNamespace' },
        BaseCapacity: Number(params.redshiftBaseCapacity),
        PubliclyAccessible: false,
        ...(params.redshiftSubnetIds ? { SubnetIds: params.redshiftSubnetIds.split(',') } : {}),
        ...(params.redshiftSecurityGroupIds ? { SecurityGroupIds: params.redshiftSecurityGroupIds.split(',') } : {}),
      },
    };
  }
  return r;
}

/**
 * Every function's environment, typed by the contract aws-config.ts reads: leaving out a variable it needs does
 * not compile.
 */
export function pipelineEnvironment(params: Params, stage: string): PipelineEnvironment {
  const workgroupName = params.createRedshiftServerless ? `rewards-${stage}` : params.redshiftWorkgroup;
  const warehouse: Pick<PipelineEnvironment, 'REDSHIFT_WORKGROUP' | 'REDSHIFT_CLUSTER_ID' | 'REDSHIFT_DB_USER' | 'REDSHIFT_SECRET_ARN'> =
    workgroupName
      ? { REDSHIFT_WORKGROUP: workgroupName }
      : { REDSHIFT_CLUSTER_ID: params.redshiftClusterId, REDSHIFT_DB_USER: params.redshiftDbUser };
  // A created namespace: load as its admin, through the secret Redshift manages (no manual grant at all).
  if (params.createRedshiftServerless) warehouse.REDSHIFT_SECRET_ARN = namespaceAdminSecret;
  return {
    DATA_BUCKET: { Ref: 'DataBucket' },
    DATA_PREFIX: params.dataPrefix,
    GLUE_DATABASE: { Ref: 'GlueDatabase' },
    REDSHIFT_COPY_ROLE_ARN: { 'Fn::GetAtt': ['RedshiftCopyRole', 'Arn'] },
    REDSHIFT_DATABASE: params.redshiftDatabase,
    REDSHIFT_SCHEMA: params.redshiftSchema,
    ...warehouse,
    PLUTUS_SECRET_ARN: params.plutusSecretArn || { Ref: 'PlutusSecret' },
    ...(params.plutusBaseUrl ? { PLUTUS_BASE_URL: params.plutusBaseUrl } : {}),
    LOOKBACK_DAYS: params.lookbackDays,
  };
}

export function buildServiceConfig(options: ServiceOptions): Cfn {
  const params = readParams(options);
  const stage = options.stage || 'dev';
  checkStage(stage);
  const resourcesByTask = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, fn]) => [fn.task, { 'Fn::GetAtt': [name, 'Arn'] }]));
  return {
    service: 'rewards-pipeline',
    frameworkVersion: '4',
    plugins: ['serverless-esbuild', 'serverless-step-functions'],
    provider: {
      name: 'aws',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      stage,
      region: options.region || 'eu-west-2',
      timeout: STATE_MACHINE_LIMITS.lambdaTimeoutSeconds,
      logRetentionInDays: 30,
      // X-Ray traces of each function and its SDK calls (Powertools Tracer).
      tracing: { lambda: true },
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_LOG_LEVEL: 'INFO', ...pipelineEnvironment(params, stage) },
    },
    package: { individually: true },
    custom: { esbuild: { config: './esbuild.config.js' } },
    functions: Object.fromEntries(
      Object.entries(functionsFor(params)).map(([name, fn]) => [
        name,
        {
          handler: fn.handler,
          memorySize: fn.memorySize,
          role: `${name[0].toUpperCase()}${name.slice(1)}Role`,
          ...(name === 'plutusSandbox'
            ? {
                timeout: fn.timeout,
                // Public URL, but every route but sign-in wants a token, and sign-in wants the generated password.
                url: true,
                environment: {
                  SANDBOX_SECRET_ARN: { Ref: 'PlutusSecret' },
                  SANDBOX_HISTORY_START: params.plutusSandboxHistoryStart,
                } satisfies SandboxEnvironment,
              }
            : {}),
          // Only extract talks to Plutus; on the trial stage, to the sandbox's URL (set here, not for every
          // function: the sandbox's own environment cannot name its own URL).
          ...((name === 'extract' || name === 'verify') && params.plutusSandbox
            ? {
                environment: {
                  PLUTUS_BASE_URL: { 'Fn::GetAtt': ['PlutusSandboxLambdaFunctionUrl', 'FunctionUrl'] },
                } satisfies Partial<PipelineEnvironment>,
              }
            : {}),
        },
      ]),
    ),
    stepFunctions: {
      validate: false,
      stateMachines: {
        pipeline: {
          name: `rewards-pipeline-${stage}`,
          definition: buildStateMachineDefinition(resourcesByTask as unknown as StateMachineResources),
          events: [
            { schedule: { rate: params.schedule, enabled: params.scheduleEnabled, input: { mode: 'incremental' } } },
            // The whole warehouse against the lake and the lake against the source, once a day; a difference fails it.
            { schedule: { rate: 'rate(1 day)', enabled: params.scheduleEnabled, input: { mode: 'verify' } } },
          ],
          alarms: {
            topics: { alarm: { Ref: 'AlarmTopic' } },
            metrics: ['executionsFailed', 'executionsTimedOut'],
            treatMissingData: 'notBreaching',
          },
          tracingConfig: { enabled: true },
        },
      },
    },
    resources: {
      Resources: resources(params, stage),
      // What the one-time grants of an existing warehouse need (apps/aws/README.md gives the SQL with these).
      Outputs: {
        LoadRoleName: { Description: 'Redshift user of the load function: "IAMR:<this name>"', Value: roleNameFor('load', stage) },
        RebuildRoleName: { Description: 'Redshift user of the rebuild function: "IAMR:<this name>"', Value: roleNameFor('rebuild', stage) },
        RedshiftCopyRoleArn: {
          Description: 'The role COPY assumes: attach it to an existing workgroup namespace or cluster',
          Value: { 'Fn::GetAtt': ['RedshiftCopyRole', 'Arn'] },
        },
        ...(params.plutusSandbox
          ? {
              PlutusSandboxUrl: {
                Description: "The trial stage's Plutus sandbox (synthetic data)",
                Value: { 'Fn::GetAtt': ['PlutusSandboxLambdaFunctionUrl', 'FunctionUrl'] },
              },
            }
          : {}),
      },
    },
  };
}

/** --stage/-s, --region/-r and every --param from an argv (`--param=k=v`, `--param k=v`, `--param="k=v"`). */
export function optionsFromArgv(argv: string[]): ServiceOptions {
  const options: ServiceOptions = { param: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const match = /^(?:--(stage|region|param)|-(s|r))(?:=(.*))?$/.exec(argv[i]);
    if (!match) continue;
    const value = match[3] !== undefined ? match[3] : argv[++i];
    const name = match[1] || (match[2] === 's' ? 'stage' : 'region');
    if (name === 'param') options.param.push(value);
    else options[name as 'stage' | 'region'] = value;
  }
  return options;
}
