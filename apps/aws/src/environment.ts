/**
 * The environment contract of the pipeline's Lambdas: every variable `aws-config.ts` reads, and the type the
 * service config must fill. `readAwsConfig` can read only these names, and the service config's
 * `PipelineEnvironment` must set every required one, so a variable read but never set fails typecheck, not a
 * first run in AWS. Values are strings, or CloudFormation references that resolve to strings at deploy.
 */
export type CfnString =
  string | { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Sub': string } | { 'Fn::Join': [string, unknown[]] };

export interface PipelineEnvironment {
  DATA_BUCKET: CfnString;
  /** `''` or a prefix ending in `/`. */
  DATA_PREFIX: string;
  GLUE_DATABASE: CfnString;
  REDSHIFT_COPY_ROLE_ARN: CfnString;
  REDSHIFT_DATABASE: string;
  REDSHIFT_SCHEMA: string;
  /** One of the two: a workgroup (Redshift Serverless) or a cluster. */
  REDSHIFT_WORKGROUP?: string;
  REDSHIFT_CLUSTER_ID?: string;
  REDSHIFT_DB_USER?: string;
  /** Sign in with this secret (a created namespace's admin secret, owned by the stack) instead of IAM credentials. */
  REDSHIFT_SECRET_ARN?: CfnString;
  /** Comma-separated database users (`IAMR:<role>`) that read the schema: a rebuild's new schema grants them again. */
  REDSHIFT_READER_USERS?: string;
  PLUTUS_SECRET_ARN: CfnString;
  PLUTUS_BASE_URL?: CfnString;
  LOOKBACK_DAYS: string;
  /** The reporting time zone of the views' months and days (an IANA name). */
  REPORTING_TIME_ZONE: string;
  /** The read-only reporting user (Looker Studio's) the loads grant the report views to. */
  REDSHIFT_REPORTING_USER?: string;
  /** The loader's only: the reporting user's sign-in ({ username, password }), to create the user and set its password. */
  REDSHIFT_REPORTING_SECRET_ARN?: CfnString;
}

export type PipelineEnvironmentName = keyof PipelineEnvironment;

/** What a Lambda's environment holds at run time: the contract's names (strings by then) and AWS's own. */
export type LambdaEnvironment = Partial<Record<PipelineEnvironmentName | 'AWS_REGION', string>>;

/** The trial stage's sandbox function reads these. */
export interface SandboxEnvironment {
  SANDBOX_SECRET_ARN: CfnString;
  SANDBOX_HISTORY_START: string;
}
