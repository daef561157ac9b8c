import { readAwsConfig } from './aws-config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServiceConfig, optionsFromArgv } from './service-config';

// The service config (serverless.js loads it through ts-node), tested through what it builds.

describe('service-config', () => {
  it('takes -s and -r as serverless does: every name follows the stage, the region is the one asked', () => {
    const options = optionsFromArgv(['deploy', '-s', 'prod', '-r', 'eu-west-1', '--param=createRedshiftServerless=true']);
    expect(options).toEqual({ stage: 'prod', region: 'eu-west-1', param: ['createRedshiftServerless=true'] });
    const config = buildServiceConfig(options);
    expect(config['provider']).toMatchObject({ stage: 'prod', region: 'eu-west-1' });
    const resources = config['resources'].Resources;
    expect(resources.GlueDatabase.Properties.DatabaseInput.Name).toBe('rewards_prod');
    expect(resources.RedshiftNamespace.Properties.NamespaceName).toBe('rewards-prod');
    expect(resources.RedshiftWorkgroup.Properties.WorkgroupName).toBe('rewards-prod');
    expect(config['stepFunctions'].stateMachines.pipeline.name).toBe('rewards-pipeline-prod');
    expect(optionsFromArgv(['--stage=dev', '--region', 'us-east-1'])).toMatchObject({ stage: 'dev', region: 'us-east-1' });
  });

  it.each(['pipeline', 'pipeline/'])(
    'gives IAM, lifecycle and the store one prefix shape whether dataPrefix ends in a slash or not (%s)',
    (prefix) => {
      const config = buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=dataPrefix=${prefix}`]));
      expect(config['provider'].environment.DATA_PREFIX).toBe('pipeline/');
      const resources = config['resources'].Resources;
      const text = JSON.stringify(resources);
      expect(text).toContain('"/pipeline/runs/*"');
      expect(text).toContain('"pipeline/runs/*"');
      expect(text).not.toMatch(/pipelineruns|pipelineraw/);
      expect(resources.DataBucket.Properties.LifecycleConfiguration.Rules[0].Prefix).toBe('pipeline/raw/');
    },
  );

  it('a created namespace needs no manual grant: the functions that use the warehouse sign in with an admin secret the stack owns', () => {
    const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', '--param=createRedshiftServerless=true']));
    const secret = { Ref: 'RedshiftAdminSecret' };
    expect(config['provider'].environment.REDSHIFT_SECRET_ARN).toEqual(secret);
    const resources = config['resources'].Resources;
    // Extract reads the warehouse's counts for the source check; Verify reads it whole.
    for (const role of ['LoaderRole', 'ExtractRole', 'VerifyRole']) {
      expect(resources[role].Properties.Policies[0].PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: secret,
      });
    }
    for (const role of ['PlanRole', 'TransformRole', 'CatalogRole', 'CommitRole', 'RecordFailureRole'])
      expect([role, JSON.stringify(resources[role])]).toEqual([role, expect.not.stringContaining('RedshiftAdminSecret')]);
    // The Data API reads `username` and `password` from the secret; the namespace gets the same password through a
    // dynamic reference, so it never appears in the template.
    const generated = resources.RedshiftAdminSecret.Properties.GenerateSecretString;
    expect(JSON.parse(generated.SecretStringTemplate)).toEqual({ username: resources.RedshiftNamespace.Properties.AdminUsername });
    expect(generated.GenerateStringKey).toBe('password');
    for (const forbidden of ['"', "'", '\\', '/', '@', ' ']) expect(generated.ExcludeCharacters).toContain(forbidden);
    expect(resources.RedshiftNamespace.Properties.AdminUserPassword).toEqual({
      'Fn::Sub': '{{resolve:secretsmanager:${RedshiftAdminSecret}:SecretString:password}}',
    });
    expect(resources.RedshiftNamespace.Properties.ManageAdminPassword).toBeUndefined();
  });

  it('names roles stably (grants in Redshift survive a replacement), per region, and outputs what the grants need', () => {
    const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', '-r', 'eu-west-2', '--param=redshiftWorkgroup=analytics']));
    expect(config['resources'].Resources.LoaderRole.Properties.RoleName).toBe('rewards-prod-eu-west-2-loader');
    expect(config['resources'].Outputs).toMatchObject({
      LoaderRoleName: { Value: 'rewards-prod-eu-west-2-loader' },
      ExtractRoleName: { Value: 'rewards-prod-eu-west-2-extract' },
      VerifyRoleName: { Value: 'rewards-prod-eu-west-2-verify' },
    });
    expect(config['provider'].environment.REDSHIFT_SECRET_ARN).toBeUndefined();
  });

  // IAM role names are global to the account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids):
  // the same stage deployed in two regions must not ask for the same names.
  it('gives the same stage in a second region role names of its own, and refuses at package time a stage too long for the region', () => {
    const names = (region: string) =>
      Object.values(
        buildServiceConfig(optionsFromArgv(['-s', 'prod', '-r', region, '--param=redshiftWorkgroup=analytics']))['resources'].Resources,
      )
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .filter((resource: any) => resource.Type === 'AWS::IAM::Role' && resource.Properties.RoleName)
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .map((resource: any) => resource.Properties.RoleName as string);
    const london = names('eu-west-2');
    const virginia = names('us-east-1');
    expect(london.length).toBeGreaterThan(5);
    expect(london.filter((name) => virginia.includes(name))).toEqual([]);
    for (const name of [...london, ...virginia]) expect(name.length).toBeLessThanOrEqual(64);
    const long = 'a'.repeat(28);
    expect(() => buildServiceConfig(optionsFromArgv(['-s', long, '-r', 'ap-southeast-4', '--param=redshiftWorkgroup=analytics']))).toThrow(
      /IAM allows 64\. In ap-southeast-4 the stage may have at most 27 characters/,
    );
    expect(() => buildServiceConfig(optionsFromArgv(['-s', 'prod', '-r', 'London', '--param=redshiftWorkgroup=analytics']))).toThrow(
      '--region must be an AWS Region code',
    );
  });

  it('runs load and rebuild as one identity: one owner for the warehouse objects, one role whose statements ListStatements sees', () => {
    for (const mode of [
      ['--param=redshiftWorkgroup=analytics'],
      ['--param=redshiftClusterId=analytics'],
      ['--param=createRedshiftServerless=true'],
    ]) {
      const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', ...mode]));
      expect(config['functions'].load.role).toBe('LoaderRole');
      expect(config['functions'].rebuild.role).toBe('LoaderRole');
      expect(config['resources'].Resources.RebuildRole).toBeUndefined();
      // Each function still writes only its own log group.
      const logs = statementsOf(config, 'LoaderRole').filter((statement) => statement.Action.includes('logs:PutLogEvents'));
      expect(JSON.stringify(logs)).toMatch(/\$\{AWS::StackName\}-load:\*.*\$\{AWS::StackName\}-rebuild:\*/);
    }
  });

  it('expires replaced versions of the data after 30 days, and keeps the audit trail (runs/, state/) for auditRetentionDays', () => {
    const rules = buildServiceConfig(
      optionsFromArgv(['--param=redshiftWorkgroup=analytics', '--param=dataPrefix=pipeline', '--param=auditRetentionDays=730']),
    )['resources'].Resources.DataBucket.Properties.LifecycleConfiguration.Rules as {
      Prefix: string;
      NoncurrentVersionExpiration?: { NoncurrentDays: number };
    }[];
    const noncurrentDays = Object.fromEntries(
      rules
        .filter((rule) => rule.NoncurrentVersionExpiration)
        .map((rule) => [rule.Prefix, rule.NoncurrentVersionExpiration?.NoncurrentDays]),
    );
    expect(noncurrentDays).toEqual({
      'pipeline/raw/': 30,
      'pipeline/curated/': 30,
      'pipeline/quarantine/': 30,
      'pipeline/runs/': 730,
      'pipeline/state/': 730,
    });
    expect(() => buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', '--param=auditRetentionDays=0']))).toThrow(
      'auditRetentionDays is a number of days',
    );
  });

  it('caps the public trial sandbox with reserved concurrency, unless the account cannot spare it', () => {
    const trial = (extra: string[]) =>
      buildServiceConfig(optionsFromArgv(['-s', 'trial', '--param=createRedshiftServerless=true', '--param=plutusSandbox=true', ...extra]))[
        'functions'
      ].plutusSandbox;
    expect(trial([])).toMatchObject({ url: true, reservedConcurrency: 2 });
    expect(trial(['--param=plutusSandboxReservedConcurrency=none']).reservedConcurrency).toBeUndefined();
    expect(() => trial(['--param=plutusSandboxReservedConcurrency=lots'])).toThrow('plutusSandboxReservedConcurrency');
  });

  it('grants an existing Plutus secret given without its random suffix, and its customer-managed key through Secrets Manager only', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:plutus';
    const key = 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const config = buildServiceConfig(
      optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=plutusSecretArn=${arn}`, `--param=plutusSecretKmsKeyArn=${key}`]),
    );
    for (const role of ['ExtractRole', 'VerifyRole']) {
      expect(statementsOf(config, role)).toContainEqual({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [arn, `${arn}-??????`],
      });
      expect(statementsOf(config, role)).toContainEqual(expect.objectContaining({ Action: ['kms:Decrypt'], Resource: key }));
    }
    expect(JSON.stringify(statementsOf(config, 'LoaderRole'))).not.toContain('kms:');
    expect(() =>
      buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=plutusSecretKmsKeyArn=${key}`])),
    ).toThrow('give plutusSecretArn with it');
  });

  describe("an existing warehouse's one-time SQL (WarehouseSetupSql)", () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const setupOf = (config: Record<string, any>) =>
      String(config['resources'].Outputs.WarehouseSetupSql?.Value ?? '')
        .split('\n')
        .filter(Boolean);

    it.each([['--param=redshiftWorkgroup=analytics'], ['--param=redshiftClusterId=analytics']])(
      '%s: creates every user a function signs in as before any grant to it, so it works before their first sign-in',
      (mode) => {
        const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', '-r', 'eu-west-2', mode]));
        const sql = setupOf(config);
        // The users the functions that call the Data API sign in as: IAMR:<their role's name>, from the template.
        const warehouseFunctions = Object.entries(config['functions'] as Record<string, { role: string }>).filter(([, fn]) =>
          JSON.stringify(config['resources'].Resources[fn.role]).includes('redshift-data:ExecuteStatement'),
        );
        expect(warehouseFunctions.map(([name]) => name).sort()).toEqual(['extract', 'load', 'rebuild', 'verify']);
        const users = new Set(warehouseFunctions.map(([, fn]) => `"IAMR:${config['resources'].Resources[fn.role].Properties.RoleName}"`));
        const created = new Set<string>();
        for (const statement of sql) {
          const named = statement.match(/"IAMR:[^"]+"/g) ?? [];
          if (statement.startsWith('CREATE USER')) {
            expect(statement).toMatch(/^CREATE USER "IAMR:[^"]+" PASSWORD DISABLE;$/);
            created.add(named[0] ?? statement);
          } else for (const user of named) expect([statement, user, created.has(user)]).toEqual([statement, user, true]);
        }
        expect(created).toEqual(users);
        // Load and rebuild are one user, the owner of the schema; extract and verify read every table it makes later.
        const loader = `"IAMR:${config['resources'].Resources['LoaderRole'].Properties.RoleName}"`;
        expect(sql).toContain(`CREATE SCHEMA IF NOT EXISTS rewards AUTHORIZATION ${loader};`);
        expect(sql.find((statement) => statement.startsWith('ALTER DEFAULT PRIVILEGES'))).toBe(
          `ALTER DEFAULT PRIVILEGES FOR USER ${loader} IN SCHEMA rewards GRANT SELECT ON TABLES TO "IAMR:rewards-prod-eu-west-2-extract", "IAMR:rewards-prod-eu-west-2-verify";`,
        );
        // A rebuild's new schema grants the same readers again: the functions are told who they are.
        const readers = sql.find((statement) => statement.startsWith('GRANT USAGE ON SCHEMA'))?.match(/"IAMR:[^"]+"/g) ?? [];
        expect(config['provider'].environment.REDSHIFT_READER_USERS).toBe(readers.map((user) => user.slice(1, -1)).join(','));
        // The README shows the same statements (stage prod, eu-west-2).
        for (const statement of sql) expect(readme).toContain(statement);
      },
    );

    it('is not needed where no function signs in as its role: a created namespace (admin secret), a cluster user', () => {
      expect(setupOf(buildServiceConfig(optionsFromArgv(['--param=createRedshiftServerless=true'])))).toEqual([]);
      expect(buildServiceConfig(optionsFromArgv(['--param=createRedshiftServerless=true']))['provider'].environment).not.toHaveProperty(
        'REDSHIFT_READER_USERS',
      );
      expect(
        setupOf(buildServiceConfig(optionsFromArgv(['--param=redshiftClusterId=analytics', '--param=redshiftDbUser=loader']))),
      ).toEqual([]);
    });

    it('attaches the COPY role to an existing namespace with its default role, which UpdateNamespace updates together with the roles', () => {
      // https://docs.aws.amazon.com/redshift-serverless/latest/APIReference/API_UpdateNamespace.html
      const command = readme.split('\n').find((line) => line.includes('aws redshift-serverless update-namespace')) ?? '';
      expect(command).toContain('--iam-roles');
      expect(command).toContain('--default-iam-role-arn');
    });
  });

  it('refuses a dataPrefix that is no plain key prefix', () => {
    for (const prefix of ['/abs', 'a//b', 'sp ace']) {
      expect(() => buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=dataPrefix=${prefix}`]))).toThrow(
        'dataPrefix must be a plain S3 key prefix',
      );
    }
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const statementsOf = (config: Record<string, any>, role: string) =>
    config['resources'].Resources[role].Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];

  it('a cluster without redshiftDbUser signs in as the role (GetClusterCredentialsWithIAM on the database); with one, as that user', () => {
    const withIam = buildServiceConfig(optionsFromArgv(['-s', 'prod', '--param=redshiftClusterId=analytics-1']));
    const dbname = { 'Fn::Sub': 'arn:${AWS::Partition}:redshift:${AWS::Region}:${AWS::AccountId}:dbname:analytics-1/dev' };
    expect(statementsOf(withIam, 'LoaderRole')).toContainEqual({
      Effect: 'Allow',
      Action: ['redshift:GetClusterCredentialsWithIAM'],
      Resource: dbname,
    });
    expect(JSON.stringify(withIam['resources'].Resources)).not.toMatch(/dbuser:|"redshift:GetClusterCredentials"/);
    expect(withIam['provider'].environment).toMatchObject({ REDSHIFT_CLUSTER_ID: 'analytics-1', REDSHIFT_DB_USER: '' });

    const withUser = buildServiceConfig(
      optionsFromArgv(['-s', 'prod', '--param=redshiftClusterId=analytics-1', '--param=redshiftDbUser=loader']),
    );
    const credentials = statementsOf(withUser, 'LoaderRole').find((statement) =>
      statement.Action.includes('redshift:GetClusterCredentials'),
    );
    expect(JSON.stringify(credentials?.Resource)).toContain('dbuser:analytics-1/loader');
    expect(JSON.stringify(withUser['resources'].Resources)).not.toContain('GetClusterCredentialsWithIAM');
  });

  it('keeps a created workgroup private by default; lookerStudioAccess opens its port to the given ranges only, SSL required, with a read-only user made from a generated secret', () => {
    const closed = buildServiceConfig(optionsFromArgv(['-s', 'prod', '--param=createRedshiftServerless=true']));
    expect(closed['resources'].Resources.RedshiftWorkgroup.Properties.PubliclyAccessible).toBe(false);
    expect(JSON.stringify(closed)).not.toMatch(/LookerStudio|ReportingUser|REPORTING_SECRET/);
    const config = buildServiceConfig(
      optionsFromArgv([
        '-s',
        'prod',
        '--param=createRedshiftServerless=true',
        '--param=lookerStudioAccess=true',
        '--param=lookerStudioIpRanges=192.0.2.0/24,2001:db8::/48',
      ]),
    );
    const resources = config['resources'].Resources;
    expect(resources.RedshiftWorkgroup.Properties).toMatchObject({
      PubliclyAccessible: true,
      Port: 5439,
      SecurityGroupIds: [{ 'Fn::GetAtt': ['LookerStudioSecurityGroup', 'GroupId'] }],
      ConfigParameters: [{ ParameterKey: 'require_ssl', ParameterValue: 'true' }],
    });
    expect(resources.LookerStudioSecurityGroup.Properties.SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 5439, ToPort: 5439, CidrIp: '192.0.2.0/24', Description: 'Looker Studio' },
      { IpProtocol: 'tcp', FromPort: 5439, ToPort: 5439, CidrIpv6: '2001:db8::/48', Description: 'Looker Studio' },
    ]);
    expect(JSON.parse(resources.ReportingUserSecret.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({
      username: 'looker_studio',
    });
    // Only the loader (load, rebuild) reads the reporting secret, and only their environment names it.
    const readsReportingSecret = (role: string) =>
      JSON.stringify(resources[role].Properties.Policies).includes('{"Ref":"ReportingUserSecret"}');
    expect(['LoaderRole', 'ExtractRole', 'VerifyRole', 'TransformRole'].map(readsReportingSecret)).toEqual([true, false, false, false]);
    const withSecret = Object.entries(config['functions'] as Record<string, { environment?: Record<string, unknown> }>)
      .filter(([, fn]) => fn.environment?.['REDSHIFT_REPORTING_SECRET_ARN'])
      .map(([name]) => name);
    expect(withSecret.sort()).toEqual(['load', 'rebuild']);
    expect(config['provider'].environment).toMatchObject({ REDSHIFT_REPORTING_USER: 'looker_studio', REPORTING_TIME_ZONE: 'UTC' });
    expect(Object.keys(config['resources'].Outputs)).toEqual(
      expect.arrayContaining(['LookerStudioHost', 'LookerStudioPort', 'LookerStudioDatabase', 'LookerStudioUserSecretArn']),
    );
  });

  it('refuses lookerStudioAccess for a warehouse whose network the stack does not own (naming the commands instead), without ranges, or with every address', () => {
    const build =
      (...params: string[]) =>
      () =>
        buildServiceConfig(optionsFromArgv(params.map((param) => `--param=${param}`)));
    expect(build('redshiftWorkgroup=analytics', 'lookerStudioAccess=true', 'lookerStudioIpRanges=192.0.2.0/24')).toThrow(
      /does not own.*aws redshift-serverless update-workgroup --workgroup-name analytics --publicly-accessible.*require_ssl.*authorize-security-group-ingress.*reportingUser=looker_studio/,
    );
    expect(build('redshiftClusterId=analytics', 'lookerStudioAccess=true', 'lookerStudioIpRanges=192.0.2.0/24')).toThrow(
      /aws redshift modify-cluster --cluster-identifier analytics --publicly-accessible/,
    );
    expect(build('createRedshiftServerless=true', 'lookerStudioAccess=true')).toThrow(/needs --param="lookerStudioIpRanges=.*no default/);
    expect(build('createRedshiftServerless=true', 'lookerStudioAccess=true', 'lookerStudioIpRanges=0.0.0.0/0')).toThrow('every address');
    expect(build('createRedshiftServerless=true', 'lookerStudioAccess=true', 'lookerStudioIpRanges=192.0.2.0')).toThrow('not a CIDR range');
    expect(build('createRedshiftServerless=true', 'lookerStudioIpRanges=192.0.2.0/24')).toThrow('with lookerStudioAccess=true only');
    expect(
      build(
        'createRedshiftServerless=true',
        'lookerStudioAccess=true',
        'lookerStudioIpRanges=192.0.2.0/24',
        'redshiftSubnetIds=subnet-0123456789abcdef0',
      ),
    ).toThrow('redshiftVpcId');
    expect(build('redshiftWorkgroup=analytics', 'reportingTimeZone=BST')).toThrow('reportingTimeZone: Not a time zone name');
    expect(build('redshiftWorkgroup=analytics', 'reportingUser=Looker"')).toThrow('plain database user name');
  });

  it('puts a created workgroup in the subnets and security groups given, and keeps a final snapshot only when asked', () => {
    const config = buildServiceConfig(
      optionsFromArgv([
        '--param=createRedshiftServerless=true',
        '--param=redshiftSubnetIds=subnet-0123abcd,subnet-4567ef01',
        '--param=redshiftSecurityGroupIds=sg-89abcdef',
        '--param=redshiftFinalSnapshot=true',
      ]),
    );
    const resources = config['resources'].Resources;
    expect(resources.RedshiftWorkgroup.Properties).toMatchObject({
      SubnetIds: ['subnet-0123abcd', 'subnet-4567ef01'],
      SecurityGroupIds: ['sg-89abcdef'],
    });
    expect(resources.RedshiftNamespace.Properties.FinalSnapshotName).toBe('rewards-dev-final');
    const plain = buildServiceConfig(optionsFromArgv(['--param=createRedshiftServerless=true']))['resources'].Resources;
    expect(plain.RedshiftWorkgroup.Properties.SubnetIds).toBeUndefined();
    expect(plain.RedshiftNamespace.Properties.FinalSnapshotName).toBeUndefined();
    expect(() =>
      buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', '--param=redshiftSubnetIds=subnet-0123abcd'])),
    ).toThrow('apply to a workgroup the stack creates');
    expect(() =>
      buildServiceConfig(optionsFromArgv(['--param=createRedshiftServerless=true', '--param=redshiftSubnetIds=sg-0123abcd'])),
    ).toThrow('comma list of subnet-');
  });

  it.each([
    [['-s', 'Prod', '--param=createRedshiftServerless=true'], 'The stage becomes part of Redshift and IAM names'],
    [['-s', 'my_stage', '--param=createRedshiftServerless=true'], 'The stage becomes part of Redshift and IAM names'],
    [['--param=redshiftWorkgroup=Analytics'], 'a workgroup name is 3 to 64 lowercase'],
    [['--param=redshiftClusterId=1cluster'], 'a cluster identifier is 1 to 63'],
    [['--param=redshiftClusterId=a--b'], 'a cluster identifier is 1 to 63'],
    [['--param=redshiftWorkgroup=analytics', '--param=redshiftDatabase=Dev-1'], 'a database name is'],
    [['--param=redshiftWorkgroup=analytics', '--param=redshiftSchema=re wards'], 'the schema is a plain identifier'],
    [['--param=createRedshiftServerless=true', '--param=redshiftBaseCapacity=12'], 'redshiftBaseCapacity'],
  ])("checks names against Redshift's rules before a deploy: %j", (argv, message) => {
    expect(() => buildServiceConfig(optionsFromArgv(argv))).toThrow(message);
  });

  it('a trial stage (plutusSandbox=true) adds the sandbox as its own function behind a URL, with a generated sign-in, and points extract at it', () => {
    const config = buildServiceConfig(
      optionsFromArgv(['-s', 'trial', '--param=createRedshiftServerless=true', '--param=plutusSandbox=true']),
    );
    const resources = config['resources'].Resources;
    expect(config['functions'].plutusSandbox).toMatchObject({
      handler: 'src/handlers/plutus-sandbox.handler',
      url: true,
      role: 'PlutusSandboxRole',
      environment: { SANDBOX_SECRET_ARN: { Ref: 'PlutusSecret' }, SANDBOX_HISTORY_START: '2024-01-01T00:00:00Z' },
    });
    const url = { 'Fn::GetAtt': ['PlutusSandboxLambdaFunctionUrl', 'FunctionUrl'] };
    expect(config['functions'].extract.environment).toEqual({ PLUTUS_BASE_URL: url });
    expect(config['provider'].environment.PLUTUS_BASE_URL).toBeUndefined();
    expect(config['resources'].Outputs.PlutusSandboxUrl.Value).toEqual(url);
    // The password is generated by CloudFormation: never in the template, never public.
    const secret = resources.PlutusSecret.Properties;
    expect(secret.SecretString).toBeUndefined();
    expect(secret.GenerateSecretString).toMatchObject({ GenerateStringKey: 'password', PasswordLength: 32 });
    expect(JSON.parse(secret.GenerateSecretString.SecretStringTemplate)).toEqual({
      email: expect.any(String),
      totpSecret: expect.stringMatching(/^[A-Z2-7]+$/),
    });
    // The sandbox may read its sign-in and nothing of the pipeline's data.
    const sandboxStatements = statementsOf(config, 'PlutusSandboxRole');
    expect(JSON.stringify(sandboxStatements)).not.toMatch(/s3:|glue:|redshift/);
    expect(sandboxStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: { Ref: 'PlutusSecret' },
    });
    // Not a pipeline task: the state machine never calls it.
    expect(JSON.stringify(config['stepFunctions'])).not.toContain('plutusSandbox');

    const plain = buildServiceConfig(optionsFromArgv(['--param=createRedshiftServerless=true']));
    expect(plain['functions'].plutusSandbox).toBeUndefined();
    expect(plain['resources'].Resources.PlutusSandboxRole).toBeUndefined();
    expect(() =>
      buildServiceConfig(
        optionsFromArgv(['--param=createRedshiftServerless=true', '--param=plutusSandbox=true', '--param=plutusBaseUrl=https://x']),
      ),
    ).toThrow('leave plutusSecretArn and plutusBaseUrl unset');
  });

  it.each([
    ['a created namespace', ['--param=createRedshiftServerless=true']],
    ['an existing workgroup', ['--param=redshiftWorkgroup=analytics']],
    ['a cluster as its role', ['--param=redshiftClusterId=analytics-1']],
    ['a cluster as a user', ['--param=redshiftClusterId=analytics-1', '--param=redshiftDbUser=loader']],
    ['the trial stage', ['--param=createRedshiftServerless=true', '--param=plutusSandbox=true']],
  ])('sets everything aws-config.ts reads, for %s (every function, as deployed)', (_, argv) => {
    const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', ...argv]));
    // CloudFormation references become strings at deploy; any string stands in for them here.
    const deployed = (value: unknown) => (typeof value === 'string' ? value : `resolved:${JSON.stringify(value)}`);
    for (const [name, fn] of Object.entries(config['functions'] as Record<string, { environment?: Record<string, unknown> }>)) {
      if (name === 'plutusSandbox') continue;
      const env = Object.fromEntries(
        Object.entries({ ...config['provider'].environment, ...fn.environment }).map(([key, value]) => [key, deployed(value)]),
      );
      const read = readAwsConfig({ ...env, AWS_REGION: 'eu-west-2' });
      expect(read.redshift.target).toMatchObject(
        argv.some((arg) => arg.includes('ClusterId')) ? { clusterIdentifier: 'analytics-1' } : { workgroupName: expect.any(String) },
      );
      if (argv.includes('--param=createRedshiftServerless=true')) expect(read.redshift.target.secretArn).toMatch(/^resolved:/);
      if (name === 'extract' && argv.includes('--param=plutusSandbox=true')) expect(read.plutusBaseUrl).toMatch(/^resolved:.*FunctionUrl/);
    }
  });
});
