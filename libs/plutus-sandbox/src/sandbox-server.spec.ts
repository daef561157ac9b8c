import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSchemaMismatch, totpCode, TRANSACTIONS_VIEW_QUERY } from '@org/plutus-client/internal';
import { dumpDataset, offDocumentRows } from './dataset-files';
import { runSandboxCli } from './sandbox-cli';
import { DEMO_CREDENTIALS, startSandbox, type Sandbox } from './sandbox-server';

// Loosely typed JSON for poking at raw answers; the schema checks are what hold the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const json = (response: Response): Promise<Json> => response.json();

const graphql = (sandbox: Sandbox, token: string | undefined, variables: Record<string, unknown>, operationName = 'transactions_view') =>
  fetch(`${sandbox.url}/v1alpha1/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ operationName, query: TRANSACTIONS_VIEW_QUERY, variables }),
  });

describe('the sandbox serves the OpenAPI document', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ now: '2026-01-15T00:00:00Z', months: 6 });
  });
  afterAll(() => sandbox.close());

  it('answers a sign-in with a JWT that conforms, and refuses wrong credentials', async () => {
    const ok = await fetch(`${sandbox.url}/auth/login`, {
      method: 'POST',
      body: JSON.stringify({
        email: DEMO_CREDENTIALS.email,
        password: DEMO_CREDENTIALS.password,
        token: totpCode(DEMO_CREDENTIALS.totpSecret, Date.now()),
      }),
    });
    expect(ok.status).toBe(200);
    const body = await json(ok);
    expect(findSchemaMismatch('LoginResponse', body)).toBeUndefined();
    expect(body.id_token.split('.')).toHaveLength(3);

    const refused = await fetch(`${sandbox.url}/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email: DEMO_CREDENTIALS.email, password: 'nope', token: '000000' }),
    });
    expect(refused.status).toBe(401);
    const refusedBody = await json(refused);
    expect(findSchemaMismatch('LoginError', refusedBody)).toBeUndefined();
    expect(refusedBody.id_token).toBeUndefined();
  });

  it('serves rewards that conform, and a 401 that conforms without a token', async () => {
    const ok = await fetch(`${sandbox.url}/platform/transactions/pluton`, { headers: { authorization: `Bearer ${sandbox.issueToken()}` } });
    expect(findSchemaMismatch('Reward', await ok.json(), { arrayOf: true })).toBeUndefined();
    const denied = await fetch(`${sandbox.url}/platform/transactions/pluton`);
    expect(denied.status).toBe(401);
    expect(findSchemaMismatch('ApiError', await denied.json())).toBeUndefined();
  });

  it('serves transactions_view pages, the aggregate and Hasura-style errors, all conforming', async () => {
    const token = sandbox.issueToken();
    const answers = [
      await graphql(sandbox, token, { offset: 0, limit: 10, from: null, to: null, type: null }),
      await graphql(sandbox, token, { offset: 5, limit: null, from: '2025-12-01T00:00:00Z', to: null, type: 'PURCHASE' }),
      await graphql(sandbox, undefined, { offset: 0, limit: 10 }),
      await graphql(sandbox, sandbox.issueToken(-5), { offset: 0, limit: 10 }),
      await graphql(sandbox, token, { offset: 0 }, 'something_else'),
    ];
    const bodies = await Promise.all(answers.map(json));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    for (const body of bodies) expect(findSchemaMismatch('TransactionsViewResponse', body)).toBeUndefined();

    const all = sandbox.data().transactions;
    expect(bodies[0].data.transactions_view).toHaveLength(10);
    expect(bodies[0].data.transactions_view_aggregate.aggregate.totalCount).toBe(all.length);
    expect(bodies[0].data.transactions_view.every((row: { __typename: string }) => row.__typename === 'transactions_view')).toBe(true);
    const decemberPurchases = all.filter((row) => row.type === 'PURCHASE' && Date.parse(row.date) >= Date.parse('2025-12-01T00:00:00Z'));
    expect(bodies[1].data.transactions_view).toHaveLength(decemberPurchases.length - 5); // null limit: all the rest
    expect(bodies[2].errors[0].extensions.code).toBe('invalid-headers');
    expect(bodies[3]).toEqual({
      errors: [{ extensions: { path: '$', code: 'invalid-jwt' }, message: 'Could not verify JWT: JWTExpired' }],
    });
    expect(bodies[4].errors[0].extensions.code).toBe('validation-failed');
  });

  it('grows and moves reward states when its clock advances', async () => {
    const local = await startSandbox({ now: '2026-01-15T00:00:00Z', months: 6 });
    try {
      const before = local.data();
      local.advanceClock(3);
      const after = local.data();
      expect(after.transactions.length).toBeGreaterThan(before.transactions.length);
      const beforeIds = new Set(before.transactions.map((row) => row.id));
      expect(after.transactions.filter((row) => beforeIds.has(row.id))).toHaveLength(before.transactions.length);
    } finally {
      await local.close();
    }
  });
});

describe('dataset folders', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plutus-dataset-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replays exactly the rows it is given', async () => {
    const rewards = [{ id: 'r-1', amount: 2.5, createdAt: '2025-05-01T10:00:00Z', reference_id: 't-1', rebate_rate: 0.03 }];
    const transactions = [{ id: 't-1', amount: -1250, currency: 'GBP', date: '2025-04-30T09:00:00+01:00', description: 'Café ☕' }];
    await dumpDataset({ rewards, transactions }, dir);
    const sandbox = await startSandbox({ dataset: dir });
    try {
      expect(sandbox.data()).toEqual({ rewards, transactions });
      const answer = await json(await graphql(sandbox, sandbox.issueToken(), { offset: 0, limit: 10 }));
      expect(answer.data.transactions_view).toEqual([{ ...transactions[0], __typename: 'transactions_view' }]);
    } finally {
      await sandbox.close();
    }
  });

  it('serves rows that break the document as they are (users have them), and counts them', async () => {
    const badRewards = [{ id: 'r', amount: 'lots', createdAt: '2025-01-01T00:00:00Z' }];
    const badTransactions = [{ currency: 'GBP', amount: '12.5', date: '31/03/2024' }];
    await writeFile(join(dir, 'rewards.json'), JSON.stringify(badRewards));
    await writeFile(join(dir, 'transactions.json'), JSON.stringify(badTransactions));
    const sandbox = await startSandbox({ dataset: dir });
    try {
      expect(offDocumentRows(sandbox.data())).toEqual({
        rewards: 1,
        transactions: 1,
        examples: ['rewards.json at /0/amount: must be number', "transactions.json at /0: must have required property 'id'"],
      });
      const answer = await json(
        await graphql(sandbox, sandbox.issueToken(), { offset: 0, limit: 10, from: null, to: '2026-01-01T00:00:00Z' }),
      );
      expect(answer.data.transactions_view).toEqual([{ ...badTransactions[0], __typename: 'transactions_view' }]);
    } finally {
      await sandbox.close();
    }
  });

  it('refuses files that are not JSON arrays, or missing, naming the file', async () => {
    await writeFile(join(dir, 'rewards.json'), JSON.stringify({ data: [] }));
    await writeFile(join(dir, 'transactions.json'), '[]');
    await expect(startSandbox({ dataset: dir })).rejects.toThrow('rewards.json must be a JSON array of rows');
    await rm(join(dir, 'transactions.json'));
    await writeFile(join(dir, 'rewards.json'), '[]');
    await expect(startSandbox({ dataset: dir })).rejects.toThrow(/transactions.json is missing/);
  });

  it('the CLI dumps a generated dataset that the CLI can serve again', async () => {
    const lines: string[] = [];
    const code = await runSandboxCli(
      ['--dump', dir, '--months', '2', '--now', '2026-01-01T00:00:00Z'],
      (line) => lines.push(line),
      Promise.resolve(),
    );
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(/^wrote \d+ rewards and \d+ transactions to /);
    const dumped = JSON.parse(await readFile(join(dir, 'transactions.json'), 'utf8'));
    expect(dumped.length).toBeGreaterThan(50);

    const served: string[] = [];
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = runSandboxCli(
      ['--data', dir, '--port', '0', '--quiet'],
      (line) => {
        served.push(line);
        stop();
      },
      stopped,
    );
    await expect(running).resolves.toBe(0);
    expect(served[0]).toMatch(/^Plutus sandbox listening on http:\/\/127\.0\.0\.1:\d+$/);
  });
});
