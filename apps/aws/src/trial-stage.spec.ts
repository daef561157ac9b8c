import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { S3ObjectStore } from '@org/s3-adapter';
import { totpCode } from '@org/plutus-client/internal';
import { sandboxHandler, type FunctionUrlEvent } from './handlers/plutus-sandbox';
import { plutusSourcePort } from './plutus-source';
import type { AwsPipelineConfig } from './aws-config';

// The trial stage's Plutus, tested as a function URL would drive it: a relay turns each HTTP request into a
// payload-2.0 event for the sandbox handler, and the pipeline's own Plutus port signs in and reads through it.
const secrets = mockClient(SecretsManagerClient);
const SIGN_IN = {
  email: 'trial@plutus-sandbox.invalid',
  totpSecret: 'KRUGS4ZANFZSAYJAORZGSYLM',
  password: 'generatedByCloudFormation0123456',
};
const ENV = {
  SANDBOX_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:trial',
  SANDBOX_HISTORY_START: '2026-01-01T00:00:00Z',
};

/** One "container": a relay on loopback in front of its own sandbox handler. */
async function container(): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  // The sandbox reads the stage's secret through a client of its own (the pipeline's side is the mock below).
  const own = { send: async () => ({ SecretString: JSON.stringify(SIGN_IN) }) } as unknown as SecretsManagerClient;
  const handle = sandboxHandler({ secrets: own, env: ENV });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://relay');
      const event: FunctionUrlEvent = {
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
        ),
        body: chunks.length ? Buffer.concat(chunks).toString('base64') : undefined,
        isBase64Encoded: true,
        requestContext: { http: { method: request.method ?? 'GET' } },
      };
      handle(event).then(
        (result) => response.writeHead(result.statusCode, result.headers).end(result.body),
        (error: unknown) => response.writeHead(502).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, close: () => handle.close() };
}

describe('trial stage: the Plutus sandbox behind a function URL', () => {
  const containers: { server: Server; close(): Promise<void> }[] = [];
  beforeEach(() => {
    secrets.reset();
  });
  afterAll(() =>
    Promise.all(
      containers.map(async ({ server, close }) => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await close();
      }),
    ),
  );

  const source = async (baseUrl: string, auth = SIGN_IN) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(auth) });
    const config = { region: 'eu-west-2', plutusSecretArn: ENV.SANDBOX_SECRET_ARN, plutusBaseUrl: baseUrl } as AwsPipelineConfig;
    const ports = await plutusSourcePort(
      config,
      { secretsManager: new SecretsManagerClient({ region: 'eu-west-2' }) },
      {} as S3ObjectStore,
      { traced: (client) => client },
    );
    return ports.source;
  };

  it('serves the pipeline through its own Plutus port: sign-in with the generated secret, transactions and the ledger', async () => {
    const one = await container();
    containers.push(one);
    const url = one.url;
    const plutus = await source(url);
    let transactions = 0;
    for await (const page of plutus.transactions({})) transactions += page.rows.length;
    const rewards = await plutus.readRewards({}, () => undefined);
    expect(transactions).toBeGreaterThan(100);
    expect(rewards).toBeGreaterThan(100);
  });

  it('refuses anyone without the generated password', async () => {
    const one = await container();
    containers.push(one);
    const url = one.url;
    const wrong = await source(url, { ...SIGN_IN, password: 'public-demo-password' });
    await expect(wrong.readRewards({}, () => undefined)).rejects.toMatchObject({ name: 'PlutusAuthError' });
    const anonymous = await fetch(`${url}/platform/transactions/pluton`);
    expect(anonymous.status).toBe(401);
  });

  it("two containers, started apart, serve the same rows and accept each other's tokens", async () => {
    const first = await container();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await container();
    containers.push(first, second);
    // A token the first signed gets the ledger from the second.
    const login = await fetch(`${first.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: SIGN_IN.email, password: SIGN_IN.password, token: totpCode(SIGN_IN.totpSecret, Date.now()) }),
    });
    expect(login.status).toBe(200);
    const { id_token: token } = (await login.json()) as { id_token: string };
    expect((await fetch(`${second.url}/platform/transactions/pluton`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const ids = async (baseUrl: string) => {
      const rows: string[] = [];
      await (await source(baseUrl)).readRewards({}, (batch) => void rows.push(...batch.map((row) => row.id)));
      return rows;
    };
    const [a, b] = [await ids(first.url), await ids(second.url)];
    expect(a.length).toBeGreaterThan(100);
    expect(b.slice(0, a.length)).toEqual(a);
  });
});
