import { createHash } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PipelineError } from '@org/pipeline';
import { startSandbox, type Sandbox } from '@org/plutus-sandbox';
import { plutusAuthFromSecret } from '../plutus-source';

/** The parts of a Lambda function URL request (payload format 2.0) the sandbox needs. */
export interface FunctionUrlEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The trial sandbox's environment or secret is not what the service config promises. */
export class SandboxConfigError extends PipelineError {}

/**
 * The trial stage's Plutus: the local sandbox, serving synthetic history, behind a function URL. Each container
 * runs the sandbox on its own loopback and relays the request to it, so the AWS path talks to exactly the
 * server the local runner and the tests use. Sign-in needs the stage's generated secret (the same one the
 * pipeline reads), and tokens are signed with a key derived from it, so every container accepts them. The
 * history starts at a fixed date, so all containers, whenever started, serve the same rows.
 */
export function sandboxHandler(
  options: { secrets?: SecretsManagerClient; env?: NodeJS.ProcessEnv } = {},
): ((event: FunctionUrlEvent) => Promise<FunctionUrlResult>) & { close(): Promise<void> } {
  let sandbox: Promise<Sandbox> | undefined;
  const start = async (): Promise<Sandbox> => {
    const env = options.env ?? process.env;
    const secretArn = env['SANDBOX_SECRET_ARN'];
    if (!secretArn)
      throw new SandboxConfigError('Missing environment: SANDBOX_SECRET_ARN. The Serverless service sets it with plutusSandbox=true.');
    const auth = await plutusAuthFromSecret(options.secrets ?? new SecretsManagerClient({ region: env['AWS_REGION'] }), secretArn);
    if (!('email' in auth))
      throw new SandboxConfigError(`The secret ${secretArn} must hold {"email", "password", "totpSecret"} for the sandbox.`);
    return startSandbox({
      credentials: { email: auth.email, password: auth.password, totpSecret: auth.totpSecret },
      tokenSecret: createHash('sha256').update(`plutus-sandbox-token:${auth.password}`).digest('hex'),
      start: env['SANDBOX_HISTORY_START'] || '2024-01-01T00:00:00Z',
    });
  };
  const handle = async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
    sandbox ??= start().catch((error: unknown) => {
      sandbox = undefined;
      throw error;
    });
    const local = await sandbox;
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && !/^(host|content-length|connection)$/i.test(entry[0]),
      ),
    );
    const method = event.requestContext.http.method;
    const body =
      event.body === undefined || method === 'GET' ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
    const response = await fetch(`${local.url}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`, {
      method,
      headers,
      body,
    });
    return {
      statusCode: response.status,
      headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' },
      body: await response.text(),
    };
  };
  // Lambda freezes the container with the sandbox listening; only tests stop it.
  return Object.assign(handle, { close: async () => (await sandbox?.catch(() => undefined))?.close() });
}

export const handler = sandboxHandler();
