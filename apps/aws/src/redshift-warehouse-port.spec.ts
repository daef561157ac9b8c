import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readAwsConfig } from './aws-config';
import { reportingPasswordFromSecret } from './redshift-warehouse-port';

describe('the reporting user from the deployed environment', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());
  const env = {
    DATA_BUCKET: 'b',
    GLUE_DATABASE: 'g',
    REDSHIFT_COPY_ROLE_ARN: 'arn:aws:iam::123456789012:role/copy',
    REDSHIFT_DATABASE: 'dev',
    PLUTUS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:p',
    REDSHIFT_WORKGROUP: 'rewards-prod',
  };

  it('reads the reporting user, its secret and the time zone; refuses a zone no engine reads alike', () => {
    expect(
      readAwsConfig({
        ...env,
        REDSHIFT_REPORTING_USER: 'looker_studio',
        REDSHIFT_REPORTING_SECRET_ARN: 'arn:s',
        REPORTING_TIME_ZONE: 'Europe/London',
      }).redshift,
    ).toMatchObject({ reportingUser: { name: 'looker_studio', secretArn: 'arn:s' }, reportingTimeZone: 'Europe/London' });
    expect(readAwsConfig(env).redshift).toMatchObject({ reportingTimeZone: 'UTC' });
    expect(readAwsConfig(env).redshift.reportingUser).toBeUndefined();
    expect(() => readAwsConfig({ ...env, REPORTING_TIME_ZONE: 'CEST' })).toThrow('REPORTING_TIME_ZONE: Not a time zone name');
  });

  it('takes the password from the secret only when the secret names that user, and never puts it in an error', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: 'looker_studio', password: 'Pw-123456789abc' }) });
    await expect(reportingPasswordFromSecret(new SecretsManagerClient({}), 'arn:s', 'looker_studio')).resolves.toBe('Pw-123456789abc');
    const wrongUser = reportingPasswordFromSecret(new SecretsManagerClient({}), 'arn:s', 'someone_else');
    await expect(wrongUser).rejects.toThrow('should hold {"username": "someone_else"');
    await expect(wrongUser).rejects.not.toThrow('Pw-123456789abc');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'not json' });
    await expect(reportingPasswordFromSecret(new SecretsManagerClient({}), 'arn:s', 'looker_studio')).rejects.toThrow('is not JSON');
  });
});
