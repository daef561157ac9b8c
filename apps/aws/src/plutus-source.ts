import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createPlutusClient, type PlutusAuth } from '@org/plutus-client';
import type { RewardsSource } from '@org/pipeline';
import { AwsConfigError } from './aws-config';
import { sdkClientConfig, type ExtraPorts } from './lambda-step';

/** Reads the Plutus credentials from Secrets Manager. The secret's value never reaches a log line. */
export async function plutusAuthFromSecret(client: SecretsManagerClient, secretArn: string): Promise<PlutusAuth> {
  const { SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text ?? '{}') as Record<string, unknown>;
  } catch {
    throw new AwsConfigError(`The secret ${secretArn} is not JSON; store {"idToken": "..."} or {"email", "password", "totpSecret"}.`);
  }
  if (typeof value['idToken'] === 'string' && value['idToken']) return { idToken: value['idToken'] };
  const { email, password, totpSecret } = value;
  if (typeof email === 'string' && typeof password === 'string' && typeof totpSecret === 'string' && email && password && totpSecret) {
    return { email, password, totpSecret };
  }
  throw new AwsConfigError(
    `The secret ${secretArn} holds no usable Plutus credentials; store {"idToken": "..."} or {"email", "password", "totpSecret"}.`,
  );
}

export const plutusSourcePort: ExtraPorts<{ source: RewardsSource }> = async (config, clients, _store, tracing) => {
  const secrets = tracing.traced(
    (clients['secretsManager'] as SecretsManagerClient | undefined) ?? new SecretsManagerClient(sdkClientConfig(config)),
  );
  const auth = await plutusAuthFromSecret(secrets, config.plutusSecretArn);
  return {
    source: createPlutusClient({ auth, baseUrl: config.plutusBaseUrl, userAgent: 'rewards-pipeline-aws', rowValidation: 'quarantine' }),
  };
};
