// IAM proven, not eyeballed: the AWS SDK commands each handler sends in the tests (recorded at the SDK mocks) are
// turned into the IAM requests AWS evaluates for them, and a maintained IAM policy simulator
// (@cloud-copilot/iam-simulate, a dev dependency used by tests only, never bundled) decides each one against the
// function's own role in the packaged CloudFormation template.
import { runSimulation } from '@cloud-copilot/iam-simulate';

/** What a handler sent through one SDK client: the command's name (without `Command`) and its input. */
export interface SentCommand {
  name: string;
  input: Record<string, unknown>;
}

export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string>;
  /** Why AWS asks for this, when it is not the obvious one. */
  note?: string;
}

/** Any aws-sdk-client-mock stub: only its recorded calls are read. */
interface RecordingStub {
  calls(): { args: unknown[] }[];
}

/** Records, per handler, every SDK command sent while it ran. */
export function sdkCallRecorder(stubs: RecordingStub[]) {
  const sent: Record<string, SentCommand[]> = {};
  return {
    sent,
    async during<T>(handler: string, work: () => Promise<T>): Promise<T> {
      const before = stubs.map((stub) => stub.calls().length);
      try {
        return await work();
      } finally {
        stubs.forEach((stub, i) => {
          for (const call of stub.calls().slice(before[i])) {
            const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
            (sent[handler] ??= []).push({ name: command.constructor.name.replace(/Command$/, ''), input: command.input });
          }
        });
      }
    },
  };
}

export interface AccountFacts {
  partition: string;
  region: string;
  accountId: string;
  /** ARNs of the Redshift Serverless workgroups the handlers name, by workgroup name. */
  workgroupArns: Record<string, string>;
  /** A secret's customer-managed KMS key, by the secret's ARN: reading the secret then needs kms:Decrypt on it. */
  secretKeys?: Record<string, string>;
}

/**
 * The IAM requests AWS evaluates for one SDK command, with the resource ARNs and the condition keys the request
 * carries. Unknown commands fail the test, so a handler that starts calling something new must be mapped here.
 */
export function iamRequestsFor(command: SentCommand, facts: AccountFacts): IamRequest[] {
  const { partition, region, accountId } = facts;
  const input = command.input as Record<string, string | undefined> & { TableInput?: { Name?: string }; DatabaseInput?: { Name?: string } };
  const object = () => `arn:${partition}:s3:::${input.Bucket}/${input.Key}`;
  const bucket = () => `arn:${partition}:s3:::${input.Bucket}`;
  const glue = (database?: string, table?: string) => [
    `arn:${partition}:glue:${region}:${accountId}:catalog`,
    ...(database ? [`arn:${partition}:glue:${region}:${accountId}:database/${database}`] : []),
    ...(database && table ? [`arn:${partition}:glue:${region}:${accountId}:table/${database}/${table}`] : []),
  ];
  const glueRequests = (action: string, database?: string, table?: string) =>
    glue(database, table).map((resource) => ({ action, resource, context: {} }));
  const warehouse = () => {
    if (input.WorkgroupName) {
      const arn = facts.workgroupArns[input.WorkgroupName];
      if (!arn) throw new Error(`No ARN known for workgroup ${input.WorkgroupName}`);
      return arn;
    }
    return `arn:${partition}:redshift:${region}:${accountId}:cluster:${input.ClusterIdentifier}`;
  };
  const secretRead = (secretArn: string, note?: string): IamRequest[] => {
    const key = facts.secretKeys?.[secretArn];
    return [
      { action: 'secretsmanager:GetSecretValue', resource: secretArn, context: {}, ...(note ? { note } : {}) },
      // https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
      ...(key
        ? [
            {
              action: 'kms:Decrypt',
              resource: key,
              context: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` },
              note: 'Secrets Manager decrypts a secret under a customer-managed key as the caller',
            },
          ]
        : []),
    ];
  };
  // What the Data API checks behind a statement, as the caller, by how it signs in:
  // https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html
  const dataApiSignIn = (): IamRequest[] => {
    const note = 'the Data API signs in to the warehouse as the caller';
    if (input.SecretArn) return secretRead(input.SecretArn, note);
    if (input.WorkgroupName) return [{ action: 'redshift-serverless:GetCredentials', resource: warehouse(), context: {}, note }];
    const dbname = `arn:${partition}:redshift:${region}:${accountId}:dbname:${input.ClusterIdentifier}/${input.Database}`;
    if (input.DbUser) {
      return [
        {
          action: 'redshift:GetClusterCredentials',
          resource: `arn:${partition}:redshift:${region}:${accountId}:dbuser:${input.ClusterIdentifier}/${input.DbUser}`,
          context: {},
          note,
        },
        { action: 'redshift:GetClusterCredentials', resource: dbname, context: {}, note },
      ];
    }
    return [{ action: 'redshift:GetClusterCredentialsWithIAM', resource: dbname, context: {}, note }];
  };
  switch (command.name) {
    case 'GetObject':
      return [{ action: 's3:GetObject', resource: object(), context: {} }];
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [{ action: 's3:PutObject', resource: object(), context: {} }];
    case 'AbortMultipartUpload':
      return [{ action: 's3:AbortMultipartUpload', resource: object(), context: {} }];
    case 'DeleteObject':
      return [{ action: 's3:DeleteObject', resource: object(), context: {} }];
    case 'HeadObject':
      return [
        { action: 's3:GetObject', resource: object(), context: {} },
        // S3 answers 404 for a missing key only to a caller allowed s3:ListBucket on the bucket, and a HeadObject
        // carries no s3:prefix: without it the answer is 403, and a first run fails on its missing cursor.
        {
          action: 's3:ListBucket',
          resource: bucket(),
          context: {},
          note: 'a missing key answers 404 only with ListBucket (no s3:prefix in the request)',
        },
      ];
    case 'ListObjectsV2':
      return [{ action: 's3:ListBucket', resource: bucket(), context: input.Prefix === undefined ? {} : { 's3:prefix': input.Prefix } }];
    case 'GetDatabase':
      return glueRequests('glue:GetDatabase', input.Name);
    case 'CreateDatabase':
      return glueRequests('glue:CreateDatabase', input.DatabaseInput?.Name);
    case 'GetTable':
      return glueRequests('glue:GetTable', input.DatabaseName, input.Name);
    case 'CreateTable':
      return glueRequests('glue:CreateTable', input.DatabaseName, input.TableInput?.Name);
    case 'UpdateTable':
      return glueRequests('glue:UpdateTable', input.DatabaseName, input.TableInput?.Name);
    case 'BatchCreatePartition':
      return glueRequests('glue:BatchCreatePartition', input.DatabaseName, input.TableName);
    case 'GetPartitions':
      return glueRequests('glue:GetPartitions', input.DatabaseName, input.TableName);
    case 'ExecuteStatement':
    case 'BatchExecuteStatement':
      return [{ action: `redshift-data:${command.name}`, resource: warehouse(), context: {} }, ...dataApiSignIn()];
    case 'DescribeStatement':
    case 'GetStatementResult':
    case 'ListStatements':
    case 'CancelStatement':
      return [{ action: `redshift-data:${command.name}`, resource: '*', context: {} }];
    case 'GetSecretValue':
      return secretRead(String(input.SecretId));
    default:
      throw new Error(`No IAM mapping for the SDK command ${command.name}: add it to test/iam-proof.ts`);
  }
}

/**
 * A KMS key's default key policy (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html):
 * the account may grant the key's use through IAM policies. A key whose policy does not let it refuses every
 * identity policy, which the simulator models: the README says so.
 */
export function defaultKeyPolicy(accountId: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** CloudFormation intrinsics of a policy resolved to the values a deployed stack would have. */
export function resolveIntrinsics(value: unknown, refs: Record<string, string>): unknown {
  const lookup = (name: string) => {
    const found = refs[name];
    if (found === undefined) throw new Error(`No value for ${name} in the IAM proof's stack facts`);
    return found;
  };
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, refs));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0];
      if (key === 'Ref') return lookup(String(argument));
      if (key === 'Fn::GetAtt') return lookup((argument as string[]).join('.'));
      if (key === 'Fn::Sub') return String(argument).replace(/\$\{([^}]+)\}/g, (_, name: string) => lookup(name));
      if (key === 'Fn::Join') {
        const [separator, parts] = argument as [string, unknown[]];
        return parts.map((part) => resolveIntrinsics(part, refs)).join(separator);
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, refs)]));
  }
  return value;
}

/** The requests a function's role does not allow, each with the simulator's verdict (empty: all allowed). */
export async function deniedRequests(
  template: Template,
  functionLogicalId: string,
  requests: IamRequest[],
  refs: Record<string, string>,
  accountId: string,
  /** Policies of resources that have their own (a KMS key's policy), by the resource's ARN. */
  resourcePolicies: Record<string, unknown> = {},
) {
  const fn = template.Resources[functionLogicalId];
  if (!fn) throw new Error(`No function ${functionLogicalId} in the template`);
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = template.Resources[roleId].Properties as { RoleName: string; Policies: { PolicyName: string; PolicyDocument: unknown }[] };
  const identityPolicies = role.Policies.map((policy) => ({
    name: policy.PolicyName,
    policy: resolveIntrinsics(policy.PolicyDocument, refs) as never,
  }));
  const denied: (IamRequest & { verdict: string })[] = [];
  for (const request of requests) {
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${accountId}:role/${role.RoleName}`,
          action: request.action,
          resource: { resource: request.resource, accountId },
          contextVariables: request.context,
        },
        identityPolicies,
        ...(resourcePolicies[request.resource] ? { resourcePolicy: resourcePolicies[request.resource] } : {}),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    const verdict = result.resultType === 'error' ? `invalid request: ${JSON.stringify(result.errors)}` : result.overallResult;
    if (verdict !== 'Allowed') denied.push({ ...request, verdict });
  }
  return denied;
}
