// The service config is plain JavaScript (serverless.js requires it): tested through what it builds.
const { buildServiceConfig, optionsFromArgv } = require('../service-config') as {
  buildServiceConfig: (options: object) => Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  optionsFromArgv: (argv: string[]) => { stage?: string; region?: string; param: string[] };
};

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

  it.each(['pipeline', 'pipeline/'])('gives IAM, lifecycle and the store one prefix shape whether dataPrefix ends in a slash or not (%s)', (prefix) => {
    const config = buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=dataPrefix=${prefix}`]));
    expect(config['provider'].environment.DATA_PREFIX).toBe('pipeline/');
    const resources = config['resources'].Resources;
    const text = JSON.stringify(resources);
    expect(text).toContain('"/pipeline/runs/*"');
    expect(text).toContain('"pipeline/runs/*"');
    expect(text).not.toMatch(/pipelineruns|pipelineraw/);
    expect(resources.DataBucket.Properties.LifecycleConfiguration.Rules[0].Prefix).toBe('pipeline/raw/');
  });

  it('a created namespace needs no manual grant: load and rebuild sign in with its managed admin secret', () => {
    const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', '--param=createRedshiftServerless=true']));
    const secret = { 'Fn::GetAtt': ['RedshiftNamespace', 'Namespace.AdminPasswordSecretArn'] };
    expect(config['provider'].environment.REDSHIFT_SECRET_ARN).toEqual(secret);
    const resources = config['resources'].Resources;
    for (const role of ['LoadRole', 'RebuildRole']) {
      expect(resources[role].Properties.Policies[0].PolicyDocument.Statement).toContainEqual({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secret });
    }
    expect(JSON.stringify(resources.ExtractRole)).not.toContain('AdminPasswordSecretArn');
  });

  it('names roles stably (grants in Redshift survive a replacement) and outputs what the grants need', () => {
    const config = buildServiceConfig(optionsFromArgv(['-s', 'prod', '--param=redshiftWorkgroup=analytics']));
    expect(config['resources'].Resources.LoadRole.Properties.RoleName).toBe('rewards-prod-load');
    expect(config['resources'].Outputs).toMatchObject({ LoadRoleName: { Value: 'rewards-prod-load' }, RebuildRoleName: { Value: 'rewards-prod-rebuild' } });
    expect(config['provider'].environment.REDSHIFT_SECRET_ARN).toBeUndefined();
  });

  it('refuses a dataPrefix that is no plain key prefix', () => {
    for (const prefix of ['/abs', 'a//b', 'sp ace']) {
      expect(() => buildServiceConfig(optionsFromArgv(['--param=redshiftWorkgroup=analytics', `--param=dataPrefix=${prefix}`]))).toThrow('dataPrefix must be a plain S3 key prefix');
    }
  });
});
