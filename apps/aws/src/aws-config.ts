import { PipelineError } from '@org/pipeline';
import { checkTimeZone } from '@org/sql-dialect';
import type { RedshiftTarget } from '@org/redshift-adapter';
import type { LambdaEnvironment } from './environment';

/** Everything a pipeline Lambda needs, read once from its environment and validated. */
export interface AwsPipelineConfig {
  region: string;
  bucket: string;
  prefix: string;
  glueDatabase: string;
  redshift: {
    target: RedshiftTarget;
    schema: string;
    copyRoleArn: string;
    readers: string[];
    reportingTimeZone: string;
    /** The read-only reporting user, and (the loader only) the secret with its password. */
    reportingUser?: { name: string; secretArn?: string };
  };
  /** Secrets Manager secret holding the Plutus credentials as JSON ({ idToken } or { email, password, totpSecret }). */
  plutusSecretArn: string;
  plutusBaseUrl?: string;
  lookbackDays: number;
}

/** The Lambda's environment or its secret is not what the service config promises; fix the deploy (never retried). */
export class AwsConfigError extends PipelineError {}

/** Reads the contract of `environment.ts` (and only it: another name does not compile). */
export function readAwsConfig(env: LambdaEnvironment): AwsPipelineConfig {
  const missing: string[] = [];
  const need = (name: keyof LambdaEnvironment) => {
    const value = env[name];
    if (!value) missing.push(name);
    return value ?? '';
  };
  const bucket = need('DATA_BUCKET');
  const glueDatabase = need('GLUE_DATABASE');
  const copyRoleArn = need('REDSHIFT_COPY_ROLE_ARN');
  const database = need('REDSHIFT_DATABASE');
  const plutusSecretArn = need('PLUTUS_SECRET_ARN');
  const workgroupName = env['REDSHIFT_WORKGROUP'];
  const clusterIdentifier = env['REDSHIFT_CLUSTER_ID'];
  if (!workgroupName && !clusterIdentifier) missing.push('REDSHIFT_WORKGROUP or REDSHIFT_CLUSTER_ID');
  if (missing.length)
    throw new AwsConfigError(`Missing environment: ${missing.join(', ')}. The Serverless service sets these; check serverless.js.`);
  const lookbackDays = Number(env['LOOKBACK_DAYS'] ?? 7);
  if (!Number.isInteger(lookbackDays) || lookbackDays < 0)
    throw new AwsConfigError(`LOOKBACK_DAYS must be a whole number, got ${env['LOOKBACK_DAYS']}.`);
  const reportingTimeZone = env['REPORTING_TIME_ZONE'] || 'UTC';
  try {
    checkTimeZone(reportingTimeZone);
  } catch (error) {
    throw new AwsConfigError(`REPORTING_TIME_ZONE: ${(error as Error).message}`);
  }
  const reportingUserName = env['REDSHIFT_REPORTING_USER'];
  const target: RedshiftTarget = workgroupName
    ? { workgroupName, database, secretArn: env['REDSHIFT_SECRET_ARN'] || undefined }
    : {
        clusterIdentifier: clusterIdentifier as string,
        database,
        dbUser: env['REDSHIFT_DB_USER'] || undefined,
        secretArn: env['REDSHIFT_SECRET_ARN'] || undefined,
      };
  return {
    region: env['AWS_REGION'] ?? 'us-east-1',
    bucket,
    prefix: env['DATA_PREFIX'] ?? '',
    glueDatabase,
    redshift: {
      target,
      schema: env['REDSHIFT_SCHEMA'] ?? 'rewards',
      copyRoleArn,
      readers: (env['REDSHIFT_READER_USERS'] ?? '')
        .split(',')
        .map((user) => user.trim())
        .filter(Boolean),
      reportingTimeZone,
      ...(reportingUserName
        ? { reportingUser: { name: reportingUserName, secretArn: env['REDSHIFT_REPORTING_SECRET_ARN'] || undefined } }
        : {}),
    },
    plutusSecretArn,
    // A function URL ends in '/'; the client appends paths that start with one.
    plutusBaseUrl: env['PLUTUS_BASE_URL']?.replace(/\/+$/, '') || undefined,
    lookbackDays,
  };
}
