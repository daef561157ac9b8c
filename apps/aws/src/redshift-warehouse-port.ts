import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RedshiftWarehouse } from '@org/redshift-adapter';
import type { Warehouse } from '@org/pipeline';
import { AwsConfigError } from './aws-config';
import { sdkClientConfig, type ExtraPorts } from './lambda-step';

/** The reporting user's password from its secret ({ username, password }); the value never reaches a log line. */
export async function reportingPasswordFromSecret(client: SecretsManagerClient, secretArn: string, user: string): Promise<string> {
  const { SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text ?? '{}') as Record<string, unknown>;
  } catch {
    throw new AwsConfigError(`The secret ${secretArn} is not JSON; it should hold {"username", "password"} of the reporting user.`);
  }
  if (value['username'] !== user || typeof value['password'] !== 'string' || !value['password'])
    throw new AwsConfigError(
      `The secret ${secretArn} should hold {"username": "${user}", "password": "..."}: the reporting user's sign-in.`,
    );
  return value['password'];
}

export const redshiftWarehousePort: ExtraPorts<{ warehouse: Warehouse }> = async (config, clients, store, tracing) => {
  const reporting = config.redshift.reportingUser;
  const password = reporting?.secretArn
    ? await reportingPasswordFromSecret(
        tracing.traced(
          (clients['secretsManager'] as SecretsManagerClient | undefined) ?? new SecretsManagerClient(sdkClientConfig(config)),
        ),
        reporting.secretArn,
        reporting.name,
      )
    : undefined;
  return {
    warehouse: new RedshiftWarehouse(
      tracing.traced((clients['redshiftData'] as RedshiftDataClient | undefined) ?? new RedshiftDataClient(sdkClientConfig(config))),
      {
        target: config.redshift.target,
        schema: config.redshift.schema,
        iamRoleArn: config.redshift.copyRoleArn,
        readers: config.redshift.readers,
        reportingTimeZone: config.redshift.reportingTimeZone,
        ...(reporting ? { reportingUser: { name: reporting.name, ...(password !== undefined ? { password } : {}) } } : {}),
        locate: (key) => store.locate(key),
      },
    ),
  };
};
