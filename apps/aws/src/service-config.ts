// The Serverless Framework service (osls, the maintained v3 fork) for the rewards pipeline, built in TypeScript so the state machine comes
// from @org/pipeline's definition (the one the local runner runs), not from a second, hand-written copy, and the
// functions' environment is typed by the contract `aws-config.ts` reads (environment.ts).
// serverless.js calls buildServiceConfig with the command line's --stage, --region and --param values.
import { buildStateMachineDefinition, PipelineError, STATE_MACHINE_LIMITS, type StateMachineResources } from '@org/pipeline';
import { checkTimeZone, isPlainUserName } from '@org/sql-dialect';
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
  // Older versions of runs/ (the manifests: the reconciliation's audit trail) and state/ are kept this long.
  auditRetentionDays: '400',
  dataPrefix: '',
  plutusSecretArn: '',
  // The customer-managed KMS key an existing Plutus secret is encrypted under, if it is not aws/secretsmanager.
  plutusSecretKmsKeyArn: '',
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
  // The public sandbox URL's most concurrent invocations; `none` for an account whose concurrency quota cannot
  // spare it (Lambda keeps 100 unreserved: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
  plutusSandboxReservedConcurrency: '2',
  // The months and days of the warehouse's views (an IANA name).
  reportingTimeZone: 'UTC',
  // A read-only database user for Looker Studio, given SELECT on the report_* views after every load. On a
  // created namespace lookerStudioAccess makes it; on an existing warehouse an admin makes it (README).
  reportingUser: '',
  // A created workgroup reachable from Looker Studio: public, SSL required, the Redshift port open to these ranges only.
  lookerStudioAccess: 'false',
  lookerStudioIpRanges: '',
  // The VPC of redshiftSubnetIds, where the Looker Studio security group must be made.
  redshiftVpcId: '',
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
  if (!/^[a-z][a-z0-9-]{0,29}$/.test(stage) || stage.endsWith('-') || stage.includes('--')) {
    throw new ServiceConfigError(
      `The stage becomes part of Redshift and IAM names: 1 to 30 lowercase letters, digits and single hyphens, starting with a letter; got ${JSON.stringify(stage)}`,
    );
  }
}

function checkRegion(region: string): void {
  if (!/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/.test(region)) {
    throw new ServiceConfigError(`--region must be an AWS Region code such as eu-west-2, got ${JSON.stringify(region)}`);
  }
}

/** The `--param` values, validated, with the switches as booleans. */
export interface Params {
  schedule: string;
  scheduleEnabled: boolean;
  alarmEmail: string;
  lookbackDays: string;
  rawRetentionDays: string;
  auditRetentionDays: string;
  dataPrefix: string;
  plutusSecretArn: string;
  plutusSecretKmsKeyArn: string;
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
  plutusSandboxReservedConcurrency: string;
  reportingTimeZone: string;
  reportingUser: string;
  lookerStudioAccess: boolean;
  /** CIDR ranges, IPv4 or IPv6. */
  lookerStudioIpRanges: string[];
  redshiftVpcId: string;
}

/** The port a created workgroup listens on, the one Looker Studio's ranges are let in to. */
export const REDSHIFT_PORT = 5439;

/** The reporting user lookerStudioAccess makes when reportingUser is not given. */
export const LOOKER_STUDIO_USER = 'looker_studio';

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
    lookerStudioAccess: value('lookerStudioAccess') === 'true',
    lookerStudioIpRanges: value('lookerStudioIpRanges')
      .split(',')
      .map((range) => range.trim())
      .filter(Boolean),
  };
  try {
    checkTimeZone(params.reportingTimeZone);
  } catch (error) {
    throw new ServiceConfigError(`--param reportingTimeZone: ${(error as Error).message}`);
  }
  checkLookerStudioAccess(params);
  if (params.plutusSandbox && (params.plutusSecretArn || params.plutusBaseUrl)) {
    throw new ServiceConfigError(
      'plutusSandbox=true makes its own Plutus (the sandbox) and its secret: leave plutusSecretArn and plutusBaseUrl unset.',
    );
  }
  for (const key of ['rawRetentionDays', 'auditRetentionDays'] as const) {
    if (!/^[1-9][0-9]{0,4}$/.test(params[key]))
      throw new ServiceConfigError(`--param ${key} is a number of days, got ${JSON.stringify(params[key])}`);
  }
  if (!/^(none|[0-9]{1,4})$/.test(params.plutusSandboxReservedConcurrency)) {
    throw new ServiceConfigError(
      `--param plutusSandboxReservedConcurrency is a number of concurrent invocations or none, got ${JSON.stringify(params.plutusSandboxReservedConcurrency)}`,
    );
  }
  if (params.plutusSecretKmsKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[0-9a-f-]{36}$/.test(params.plutusSecretKmsKeyArn)) {
    throw new ServiceConfigError(
      `--param plutusSecretKmsKeyArn is a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), got ${JSON.stringify(params.plutusSecretKmsKeyArn)}`,
    );
  }
  if (params.plutusSecretKmsKeyArn && !params.plutusSecretArn) {
    throw new ServiceConfigError('plutusSecretKmsKeyArn is the key of an existing Plutus secret: give plutusSecretArn with it.');
  }
  if (
    params.plutusSecretArn &&
    !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(params.plutusSecretArn)
  ) {
    throw new ServiceConfigError(
      `--param plutusSecretArn is a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got ${JSON.stringify(params.plutusSecretArn)}`,
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

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/**
 * lookerStudioAccess opens the network of a workgroup the stack creates, and no other: an existing workgroup's or
 * cluster's network is its owner's, so the commands to run instead are named. The ranges have no default: no
 * Google-owned page listing the addresses Looker Studio connects from could be found, and a guessed or world-wide
 * range would open the warehouse to more than Looker Studio.
 */
function checkLookerStudioAccess(params: Params): void {
  if (params.reportingUser && !isPlainUserName(params.reportingUser))
    throw new ServiceConfigError(
      `--param reportingUser is a plain database user name (lowercase letters, digits, _), got ${JSON.stringify(params.reportingUser)}`,
    );
  if (!params.lookerStudioAccess) {
    if (params.lookerStudioIpRanges.length || params.redshiftVpcId)
      throw new ServiceConfigError('lookerStudioIpRanges and redshiftVpcId apply with lookerStudioAccess=true only.');
    return;
  }
  if (!params.createRedshiftServerless) {
    const workgroup = params.redshiftWorkgroup || '<workgroup>';
    throw new ServiceConfigError(
      `lookerStudioAccess=true opens the network of a workgroup this stack creates (createRedshiftServerless=true); this stack uses an existing ${params.redshiftClusterId ? 'cluster' : 'workgroup'}, whose network it does not own. ` +
        'To let Looker Studio in yourself (apps/aws/README.md, "Looker Studio"): ' +
        (params.redshiftClusterId
          ? `aws redshift modify-cluster --cluster-identifier ${params.redshiftClusterId} --publicly-accessible, and require_ssl=true in its parameter group; `
          : `aws redshift-serverless update-workgroup --workgroup-name ${workgroup} --publicly-accessible --config-parameters parameterKey=require_ssl,parameterValue=true; `) +
        `aws ec2 authorize-security-group-ingress --group-id <its security group> --protocol tcp --port ${REDSHIFT_PORT} --cidr <each Looker Studio range>; ` +
        `then run the README's reporting-user SQL as an admin and deploy with --param="reportingUser=${LOOKER_STUDIO_USER}" so each load grants it the report views.`,
    );
  }
  if (!params.lookerStudioIpRanges.length)
    throw new ServiceConfigError(
      'lookerStudioAccess=true needs --param="lookerStudioIpRanges=CIDR,CIDR": the address ranges Looker Studio connects from, as Google states them for your account. ' +
        'They have no default: we found no Google-owned page listing them, and the port is opened to those ranges only.',
    );
  for (const range of params.lookerStudioIpRanges) {
    if (!IPV4_CIDR.test(range) && !IPV6_CIDR.test(range))
      throw new ServiceConfigError(
        `--param lookerStudioIpRanges: ${JSON.stringify(range)} is not a CIDR range (e.g. 192.0.2.0/24 or 2001:db8::/48).`,
      );
    if (/\/0$/.test(range))
      throw new ServiceConfigError(`--param lookerStudioIpRanges: ${range} is every address; give Looker Studio's ranges only.`);
  }
  if (params.redshiftSubnetIds && !/^vpc-[0-9a-f]{8,17}$/.test(params.redshiftVpcId))
    throw new ServiceConfigError(
      'lookerStudioAccess=true with redshiftSubnetIds needs --param="redshiftVpcId=vpc-…", the VPC of those subnets: the security group that lets Looker Studio in is made there.',
    );
  if (params.redshiftVpcId && !/^vpc-[0-9a-f]{8,17}$/.test(params.redshiftVpcId))
    throw new ServiceConfigError(`--param redshiftVpcId is a vpc-… id, got ${JSON.stringify(params.redshiftVpcId)}`);
}

/** The reporting user the loads grant the report views to, if any. */
export function reportingUserOf(params: Params): string {
  return params.reportingUser || (params.lookerStudioAccess ? LOOKER_STUDIO_USER : '');
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

/**
 * The Plutus secret as a policy resource. A secret's ARN ends in `-` and six random characters; an ARN given
 * without them (the name alone) matches the secret only with the `-??????` wildcard
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html#auth-and-access_examples_wildcard).
 * Both forms are listed, since a name may itself end in six characters after a hyphen.
 */
function plutusSecretResource(params: Params): Cfn {
  return params.plutusSecretArn ? [params.plutusSecretArn, `${params.plutusSecretArn}-??????`] : { Ref: 'PlutusSecret' };
}

/** Reading the Plutus secret: the secret, and its customer-managed key when it has one (through Secrets Manager only). */
function plutusSecretStatements(params: Params): Cfn[] {
  const read = { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: plutusSecretResource(params) };
  if (!params.plutusSecretKmsKeyArn) return [read];
  // https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html: GetSecretValue on a
  // secret under a customer-managed key needs kms:Decrypt on that key.
  return [
    read,
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: params.plutusSecretKmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } } },
    },
  ];
}

/** Least privilege per role: only the object prefixes, catalog entries, secret and warehouse its functions use. */
function policyFor(functions: readonly string[], params: Params): Cfn {
  const statements = functions.map((name) => dataStatementsFor(name, params));
  if (statements.some((each) => JSON.stringify(each) !== JSON.stringify(statements[0]))) {
    throw new ServiceConfigError(`Functions sharing a role need the same access: ${functions.join(', ')}`);
  }
  const logs = functions.map((name) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: logGroupArn(name),
  }));
  // Active tracing (Powertools Tracer): X-Ray takes no resource-level permissions.
  const traces = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
  return { Version: '2012-10-17', Statement: [...logs, traces, ...statements[0]] };
}

function dataStatementsFor(name: string, params: Params): Cfn[] {
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
      // Large objects go up in parts (lib-storage): a failed upload must be able to abort its parts. A restarted
      // extract deletes the raw parts of its own cut-off attempt before writing them again.
      rw(['raw/'], ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject']),
      ...plutusSecretStatements(params),
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
    load: [...runState, ...warehouseStatements(params), glueStatement, ...reportingSecretStatements(params)],
    commit: runState,
    recordFailure: runState,
    // Plan reads its input, and for a backfill the source's counts (where its first transaction is); no data of the lake's.
    plan: plutusSecretStatements(params),
    // The trial stage's sandbox reads the generated sign-in it checks; nothing of the pipeline's data.
    plutusSandbox: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'PlutusSecret' } }],
    rebuild: [...runState, ...warehouseStatements(params), glueStatement, ...reportingSecretStatements(params)],
    // Verify reads the lake's manifests, the warehouse, the catalog and the source; it writes only its own manifest and the lock.
    verify: [...runState, ...warehouseStatements(params), glueStatement, ...plutusSecretStatements(params)],
  }[name];
  if (!statements) throw new ServiceConfigError(`No policy for a function named ${name}`);
  return statements;
}

/**
 * The created namespace's admin sign-in, a secret the stack owns: CloudFormation returns no attribute for the
 * secret Redshift would manage itself (`ManageAdminPassword`), so nothing could name it to the load function. The
 * namespace takes the password through a dynamic reference (resolved by CloudFormation, never in the template),
 * and the Data API signs in with the secret's `username` and `password`, so no grant is needed.
 */
const REDSHIFT_ADMIN_USER = 'rewards_admin';
const namespaceAdminSecret: CfnString = { Ref: 'RedshiftAdminSecret' };

/** The loader (load and rebuild) reads the reporting user's password, to create the user and set its password. */
function reportingSecretStatements(params: Params): Cfn[] {
  return params.lookerStudioAccess
    ? [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'ReportingUserSecret' } }]
    : [];
}

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
 * Which role each function runs as. Load and rebuild are one identity, so every table and view in the warehouse
 * has one owner whichever of them made it (a rebuild's tables stay alterable by the next load), and the Data API's
 * `ListStatements` (`RoleLevel: true`: every statement of the caller's role,
 * https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_ListStatements.html) sees the batches of both,
 * so neither starts beside the other's orphaned batch.
 */
export const ROLE_OF_FUNCTION: Record<string, string> = {
  plan: 'plan',
  extract: 'extract',
  transform: 'transform',
  catalog: 'catalog',
  load: 'loader',
  rebuild: 'loader',
  commit: 'commit',
  recordFailure: 'recordFailure',
  verify: 'verify',
  plutusSandbox: 'plutusSandbox',
};

const roleLogicalId = (role: string) => `${role[0].toUpperCase()}${role.slice(1)}Role`;

/** IAM's limit on a role name: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html */
const IAM_ROLE_NAME_MAX = 64;

/**
 * A role name that stays the same across stack updates and replacements, so grants given to it in Redshift (as
 * `IAMR:<name>`) are never silently dropped: rewards-<stage>-<region>-<role>. Role names are global to the
 * account, so the region is in it: the same stage in a second region gets roles of its own.
 */
export function roleNameFor(role: string, stage: string, region: string): string {
  return `rewards-${stage}-${region}-${role}`;
}

/** Every role name must fit IAM's 64 characters: refused here, with the longest stage that fits, not by CloudFormation. */
function checkRoleNames(stage: string, region: string, functions: readonly string[]): void {
  const roles = [...new Set(functions.map((name) => ROLE_OF_FUNCTION[name] ?? name))];
  const longest = roles.reduce((a, b) => (b.length > a.length ? b : a));
  const name = roleNameFor(longest, stage, region);
  if (name.length > IAM_ROLE_NAME_MAX) {
    const room = IAM_ROLE_NAME_MAX - roleNameFor(longest, '', region).length;
    throw new ServiceConfigError(
      `The role name ${name} is ${name.length} characters; IAM allows ${IAM_ROLE_NAME_MAX}. In ${region} the stage may have at most ${room} characters.`,
    );
  }
}

/**
 * The one-time SQL an admin runs on an existing workgroup or cluster whose functions sign in as their roles
 * (`IAMR:<role name>`, https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html). The users are made
 * first (`PASSWORD DISABLE`: temporary credentials only,
 * https://docs.aws.amazon.com/redshift/latest/mgmt/generating-iam-credentials-user-and-groups.html), so every grant
 * works before a function's first sign-in. The loader (load and rebuild) owns the schema and all it makes;
 * extract and verify read, now and every table made later. Empty where no role signs in (a created namespace, or
 * a cluster user given as redshiftDbUser).
 */
/** The database users that only read the warehouse, when the functions sign in as their roles. */
export function warehouseReaderUsers(params: Params, stage: string, region: string): string[] {
  if (params.createRedshiftServerless || params.redshiftDbUser) return [];
  return ['extract', 'verify'].map((role) => `IAMR:${roleNameFor(role, stage, region)}`);
}

export function warehouseSetupSql(params: Params, stage: string, region: string): string[] {
  if (params.createRedshiftServerless || params.redshiftDbUser) return [];
  const user = (role: string) => `"IAMR:${roleNameFor(role, stage, region)}"`;
  const loader = user('loader');
  const readers = warehouseReaderUsers(params, stage, region)
    .map((name) => `"${name}"`)
    .join(', ');
  const schema = params.redshiftSchema;
  return [
    ...['loader', 'extract', 'verify'].map((role) => `CREATE USER ${user(role)} PASSWORD DISABLE;`),
    `GRANT CREATE ON DATABASE ${params.redshiftDatabase} TO ${loader};`,
    `CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${loader};`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${readers};`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${readers};`,
    `ALTER DEFAULT PRIVILEGES FOR USER ${loader} IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${readers};`,
  ];
}

function roleFor(role: string, functions: readonly string[], params: Params, stage: string, region: string): Cfn {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleNameFor(role, stage, region),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: `${role}-least-privilege`, PolicyDocument: policyFor(functions, params) }],
    },
  };
}

function resources(params: Params, stage: string, region: string): Record<string, Cfn> {
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
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html: versions a
        // write or delete replaced are kept until a NoncurrentVersionExpiration removes them. The data's are
        // removed after 30 days; the manifests' (runs/: the reconciliation's audit trail) and the state's after
        // auditRetentionDays.
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'expire-raw',
              Status: 'Enabled',
              Prefix: `${params.dataPrefix}raw/`,
              ExpirationInDays: Number(params.rawRetentionDays),
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            },
            ...(['curated', 'quarantine'] as const).map((folder) => ({
              Id: `expire-replaced-${folder}`,
              Status: 'Enabled',
              Prefix: `${params.dataPrefix}${folder}/`,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              ExpiredObjectDeleteMarker: true,
            })),
            ...(['runs', 'state'] as const).map((folder) => ({
              Id: `keep-audit-${folder}`,
              Status: 'Enabled',
              Prefix: `${params.dataPrefix}${folder}/`,
              NoncurrentVersionExpiration: { NoncurrentDays: Number(params.auditRetentionDays) },
              ExpiredObjectDeleteMarker: true,
            })),
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
  const functionsOfRole = new Map<string, string[]>();
  for (const name of Object.keys(functionsFor(params))) {
    const role = ROLE_OF_FUNCTION[name] ?? name;
    functionsOfRole.set(role, [...(functionsOfRole.get(role) ?? []), name]);
  }
  for (const [role, functions] of functionsOfRole) r[roleLogicalId(role)] = roleFor(role, functions, params, stage, region);
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
        // Private unless lookerStudioAccess: then reachable on its port from Looker Studio's ranges only, SSL required
        // (require_ssl: https://docs.aws.amazon.com/redshift-serverless/latest/APIReference/API_CreateWorkgroup.html).
        PubliclyAccessible: params.lookerStudioAccess,
        ...(params.redshiftSubnetIds ? { SubnetIds: params.redshiftSubnetIds.split(',') } : {}),
        ...(params.lookerStudioAccess
          ? {
              Port: REDSHIFT_PORT,
              // A security group's Ref is its name outside a VPC given by VpcId (the default VPC's case); GroupId is its id always.
              SecurityGroupIds: [
                { 'Fn::GetAtt': ['LookerStudioSecurityGroup', 'GroupId'] },
                ...(params.redshiftSecurityGroupIds ? params.redshiftSecurityGroupIds.split(',') : []),
              ],
              ConfigParameters: [{ ParameterKey: 'require_ssl', ParameterValue: 'true' }],
            }
          : params.redshiftSecurityGroupIds
            ? { SecurityGroupIds: params.redshiftSecurityGroupIds.split(',') }
            : {}),
      },
    };
    if (params.lookerStudioAccess) {
      r.LookerStudioSecurityGroup = {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: `Looker Studio to the rewards-${stage} Redshift workgroup, port ${REDSHIFT_PORT} only`,
          ...(params.redshiftVpcId ? { VpcId: params.redshiftVpcId } : {}),
          SecurityGroupIngress: params.lookerStudioIpRanges.map((range) => ({
            IpProtocol: 'tcp',
            FromPort: REDSHIFT_PORT,
            ToPort: REDSHIFT_PORT,
            ...(range.includes(':') ? { CidrIpv6: range } : { CidrIp: range }),
            Description: 'Looker Studio',
          })),
        },
      };
      r.ReportingUserSecret = {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          Description: `Looker Studio's read-only sign-in to the rewards-${stage} warehouse: SELECT on the report_* views only. The load function creates the user from it.`,
          GenerateSecretString: {
            SecretStringTemplate: JSON.stringify({ username: reportingUserOf(params) }),
            GenerateStringKey: 'password',
            PasswordLength: 32,
            ExcludeCharacters: `'"\\/@ `,
            RequireEachIncludedType: true,
          },
        },
      };
    }
  }
  return r;
}

/**
 * Every function's environment, typed by the contract aws-config.ts reads: leaving out a variable it needs does
 * not compile.
 */
export function pipelineEnvironment(params: Params, stage: string, region: string): PipelineEnvironment {
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
    ...(warehouseReaderUsers(params, stage, region).length
      ? { REDSHIFT_READER_USERS: warehouseReaderUsers(params, stage, region).join(',') }
      : {}),
    PLUTUS_SECRET_ARN: params.plutusSecretArn || { Ref: 'PlutusSecret' },
    ...(params.plutusBaseUrl ? { PLUTUS_BASE_URL: params.plutusBaseUrl } : {}),
    LOOKBACK_DAYS: params.lookbackDays,
    REPORTING_TIME_ZONE: params.reportingTimeZone,
    ...(reportingUserOf(params) ? { REDSHIFT_REPORTING_USER: reportingUserOf(params) } : {}),
  };
}

export function buildServiceConfig(options: ServiceOptions): Cfn {
  const params = readParams(options);
  const stage = options.stage || 'dev';
  const region = options.region || 'eu-west-2';
  checkStage(stage);
  checkRegion(region);
  checkRoleNames(stage, region, Object.keys(functionsFor(params)));
  const resourcesByTask = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, fn]) => [fn.task, { 'Fn::GetAtt': [name, 'Arn'] }]));
  return {
    service: 'rewards-pipeline',
    frameworkVersion: '4',
    plugins: ['./serverless-bundle', 'serverless-step-functions'],
    provider: {
      name: 'aws',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      stage,
      region,
      timeout: STATE_MACHINE_LIMITS.lambdaTimeoutSeconds,
      logRetentionInDays: 30,
      // X-Ray traces of each function and its SDK calls (Powertools Tracer).
      tracing: { lambda: true },
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_LOG_LEVEL: 'INFO', ...pipelineEnvironment(params, stage, region) },
    },
    package: { individually: true },
    functions: Object.fromEntries(
      Object.entries(functionsFor(params)).map(([name, fn]) => [
        name,
        {
          handler: fn.handler,
          memorySize: fn.memorySize,
          role: roleLogicalId(ROLE_OF_FUNCTION[name] ?? name),
          ...(name === 'plutusSandbox'
            ? {
                timeout: fn.timeout,
                // A public URL (anyone may call it), but every route but sign-in wants a token, and sign-in wants
                // the generated password. Reserved concurrency caps what a flood of calls can cost.
                url: true,
                ...(params.plutusSandboxReservedConcurrency === 'none'
                  ? {}
                  : { reservedConcurrency: Number(params.plutusSandboxReservedConcurrency) }),
                environment: {
                  SANDBOX_SECRET_ARN: { Ref: 'PlutusSecret' },
                  SANDBOX_HISTORY_START: params.plutusSandboxHistoryStart,
                } satisfies SandboxEnvironment,
              }
            : {}),
          // Only extract talks to Plutus; on the trial stage, to the sandbox's URL (set here, not for every
          // function: the sandbox's own environment cannot name its own URL).
          // Only the loader reads the reporting user's password (to create the user and set its password).
          ...(ROLE_OF_FUNCTION[name] === 'loader' && params.lookerStudioAccess
            ? { environment: { REDSHIFT_REPORTING_SECRET_ARN: { Ref: 'ReportingUserSecret' } } satisfies Partial<PipelineEnvironment> }
            : {}),
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
      Resources: resources(params, stage, region),
      // What the one-time grants of an existing warehouse need (apps/aws/README.md gives the SQL with these).
      Outputs: {
        LoaderRoleName: {
          Description: 'Redshift user of the load and rebuild functions, owner of the tables: "IAMR:<this name>"',
          Value: roleNameFor('loader', stage, region),
        },
        ExtractRoleName: {
          Description: 'Redshift user of the extract function (reads counts): "IAMR:<this name>"',
          Value: roleNameFor('extract', stage, region),
        },
        VerifyRoleName: {
          Description: 'Redshift user of the verify function (reads): "IAMR:<this name>"',
          Value: roleNameFor('verify', stage, region),
        },
        ...(warehouseSetupSql(params, stage, region).length
          ? {
              WarehouseSetupSql: {
                Description: 'Run once as a warehouse admin, before the first run (apps/aws/README.md, Warehouse privileges)',
                Value: warehouseSetupSql(params, stage, region).join('\n'),
              },
            }
          : {}),
        RedshiftCopyRoleArn: {
          Description: 'The role COPY assumes: attach it to an existing workgroup namespace or cluster',
          Value: { 'Fn::GetAtt': ['RedshiftCopyRole', 'Arn'] },
        },
        ...(params.lookerStudioAccess
          ? {
              LookerStudioHost: {
                Description: 'Looker Studio, Amazon Redshift connector: Host name or IP',
                Value: { 'Fn::GetAtt': ['RedshiftWorkgroup', 'Workgroup.Endpoint.Address'] },
              },
              LookerStudioPort: { Description: 'Looker Studio: Port', Value: String(REDSHIFT_PORT) },
              LookerStudioDatabase: { Description: 'Looker Studio: Database', Value: params.redshiftDatabase },
              LookerStudioUserSecretArn: {
                Description:
                  "Looker Studio: Username and Password are this secret's (aws secretsmanager get-secret-value --secret-id <this>); tick Enable SSL",
                Value: { Ref: 'ReportingUserSecret' },
              },
              LookerStudioViews: {
                Description: 'One Looker Studio data source per view (the report_* views of this schema)',
                Value: params.redshiftSchema,
              },
            }
          : {}),
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
