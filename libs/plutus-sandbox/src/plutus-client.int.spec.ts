import {
  createPlutusClient,
  PlutusAuthError,
  PlutusError,
  PlutusNetworkError,
  PlutusRateLimitError,
  PlutusSchemaError,
  PlutusServerError,
  PlutusTimeoutError,
  type PlutusClientOptions,
  type PlutusLogger,
} from '@org/plutus-client';
import { startSandbox, type Sandbox } from './sandbox-server';

// The client's behaviour against its real test peer. It lives here, beside the sandbox, because the sandbox
// depends on the client's OpenAPI schemas: the other way round would be a dependency cycle.
// Real HTTP against the sandbox on 127.0.0.1. Backoff sleeps are recorded instead of waited, so fault tests
// are fast and can assert how long the client would have waited.
describe('createPlutusClient against the sandbox', () => {
  let sandbox: Sandbox;
  let waits: number[];
  let logLines: string[];

  const logger: PlutusLogger = {
    debug: (message, fields) => logLines.push(`${message} ${JSON.stringify(fields)}`),
    warn: (message, fields) => logLines.push(`${message} ${JSON.stringify(fields)}`),
  };
  const client = (overrides: Partial<PlutusClientOptions> = {}) =>
    createPlutusClient({
      baseUrl: sandbox.url,
      auth: sandbox.credentials,
      logger,
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...overrides,
    });

  beforeAll(async () => {
    sandbox = await startSandbox({ now: '2026-06-30T12:00:00Z', months: 12, seed: 7 });
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    // Answers still being delayed for a client that timed out must not land in (and draw faults of) the next test.
    await sandbox.drain();
    waits = [];
    logLines = [];
    sandbox.setFaults({});
    sandbox.resetStats();
  });

  it('lists the whole rewards ledger exactly as the sandbox holds it', async () => {
    const rewards = await client().listRewards();
    expect(rewards).toEqual(sandbox.data().rewards);
    expect(rewards.length).toBeGreaterThan(500);
  });

  it('reads the ledger as a stream: only rows changed since an instant, in batches, with the ledger size', async () => {
    const all = sandbox.data().rewards;
    const since = '2026-06-01T00:00:00Z';
    const expected = all.filter((row) => Date.parse(row.updatedAt ?? row.createdAt) >= Date.parse(since)).map((row) => row.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    const batches: string[][] = [];
    const total = await client().readRewards({ changedSince: since }, (rows) => void batches.push(rows.map((row) => row.id)));
    expect(total).toBe(all.length);
    expect(batches.flat()).toEqual(expected);
    expect((await client().listRewards({ changedSince: since })).map((row) => row.id)).toEqual(expected);
  });

  it('pages through transactions newest first, in order, with bounded concurrency and progress', async () => {
    sandbox.setFaults({ latencyMs: 15 });
    const pages = [];
    for await (const page of client().transactions({ pageSize: 100, concurrency: 4 })) pages.push(page);
    const expected = [...sandbox.data().transactions].sort((a, b) => Date.parse(b.date) - Date.parse(a.date) || (a.id < b.id ? 1 : -1));
    const rows = pages.flatMap((page) => page.rows);
    expect(rows.map((row) => row.id)).toEqual(expected.map((row) => row.id));
    expect(pages.map((page) => page.offset)).toEqual(pages.map((_, i) => i * 100));
    expect(pages.at(-1)?.fetchedCount).toBe(expected.length);
    expect(pages.every((page) => page.totalCount === expected.length)).toBe(true);
    const stats = sandbox.stats();
    expect(stats.maxConcurrent).toBeGreaterThan(1);
    expect(stats.maxConcurrent).toBeLessThanOrEqual(4 + 1); // + the sign-in
  });

  it('filters by an inclusive date window and by type', async () => {
    const from = '2026-03-01T00:00:00Z';
    const to = '2026-03-31T23:59:59Z';
    const rows = await client().allTransactions({ from, to, type: 'PURCHASE', pageSize: 50 });
    const expected = sandbox
      .data()
      .transactions.filter(
        (row) => row.type === 'PURCHASE' && Date.parse(row.date) >= Date.parse(from) && Date.parse(row.date) <= Date.parse(to),
      );
    expect(rows).toHaveLength(expected.length);
    expect(new Set(rows.map((row) => row.id))).toEqual(new Set(expected.map((row) => row.id)));
  });

  it('reads a date-only window as whole UTC days, both ends included, and refuses a date it would have to guess', async () => {
    const rows = await client().allTransactions({ from: '2026-03-01', to: '2026-03-31', pageSize: 100 });
    const expected = sandbox.data().transactions.filter((row) => new Date(row.date).toISOString().slice(0, 7) === '2026-03');
    expect(expected.some((row) => new Date(row.date).toISOString().startsWith('2026-03-31'))).toBe(true);
    expect(new Set(rows.map((row) => row.id))).toEqual(new Set(expected.map((row) => row.id)));
    for (const [from, problem] of [
      ['01/10/2026', 'must be an ISO date'],
      ['2026-02-30', 'is not a date'],
      ['2026-03-01T10:00:00', 'must be an ISO date'],
    ]) {
      await expect(client().allTransactions({ from })).rejects.toMatchObject({
        code: 'PLUTUS_CONFIG',
        message: expect.stringContaining(problem),
      });
    }
  });

  it('asks for the rewards created in a half-open window, and signs in on demand with login()', async () => {
    const march = await client().listRewards({ createdFrom: '2026-03-01', createdBefore: '2026-04-01' });
    const expected = sandbox
      .data()
      .rewards.filter((row) => row.createdAt >= '2026-03-01' && Date.parse(row.createdAt) < Date.parse('2026-04-01T00:00:00Z'));
    expect(expected.length).toBeGreaterThan(0);
    expect(new Set(march.map((row) => row.id))).toEqual(new Set(expected.map((row) => row.id)));
    await expect(client().login()).resolves.toBeUndefined();
    const wrong = client({ auth: { ...sandbox.credentials, password: 'not-the-password' } as never });
    await expect(wrong.login()).rejects.toBeInstanceOf(PlutusAuthError);
  });

  it('waits as long as Retry-After asks on 429, then succeeds', async () => {
    sandbox.setFaults({ rateLimit: { times: 2, retryAfterSeconds: 3, routes: ['rewards'] } });
    await expect(client().listRewards()).resolves.toHaveLength(sandbox.data().rewards.length);
    expect(waits).toEqual([3000, 3000]);
    expect(sandbox.firedFaults('rateLimit')).toBe(2);
  });

  it('raises PlutusRateLimitError when 429s outlast the retries', async () => {
    sandbox.setFaults({ rateLimit: { retryAfterSeconds: 1, routes: ['rewards'] } });
    const error = await client({ retry: { maxAttempts: 3 } })
      .listRewards()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusRateLimitError);
    expect(error).toMatchObject({ attempts: 3, retryAfterSeconds: 1, transient: true });
  });

  it('retries 5xx with growing backoff, then succeeds', async () => {
    sandbox.setFaults({ serverError: { times: 3, routes: ['transactions'] } });
    const rows = await client().allTransactions({ pageSize: 1000 });
    expect(rows).toHaveLength(sandbox.data().transactions.length);
    expect(waits).toHaveLength(3);
    expect(waits[2]).toBeGreaterThan(waits[0]);
  });

  it('raises PlutusServerError after a 500 storm', async () => {
    sandbox.setFaults({ serverError: { status: 503, routes: ['rewards'] } });
    const error = await client({ retry: { maxAttempts: 4 } })
      .listRewards()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusServerError);
    expect(error).toMatchObject({ status: 503, attempts: 4 });
    expect((error as Error).message).toContain('GET 127.0.0.1');
  });

  it('retries dropped connections, and raises PlutusNetworkError when they persist', async () => {
    sandbox.setFaults({ dropConnection: { times: 1, routes: ['rewards'] } });
    await expect(client().listRewards()).resolves.toHaveLength(sandbox.data().rewards.length);
    sandbox.setFaults({ dropConnection: { routes: ['rewards'] } });
    await expect(client({ retry: { maxAttempts: 2 } }).listRewards()).rejects.toBeInstanceOf(PlutusNetworkError);
  });

  it('times out slow answers per attempt with PlutusTimeoutError', async () => {
    sandbox.setFaults({ latencyMs: 400 });
    const error = await client({ timeoutMs: 100, retry: { maxAttempts: 2 } })
      .listRewards()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 100, attempts: 2 });
  });

  it('retries a malformed JSON body, and names it when it persists', async () => {
    sandbox.setFaults({ malformedJson: { times: 1, routes: ['transactions'] } });
    await expect(client().allTransactions({ pageSize: 5000 })).resolves.toHaveLength(sandbox.data().transactions.length);
    sandbox.setFaults({ malformedJson: { routes: ['rewards'] } });
    const error = await client({ retry: { maxAttempts: 2 } })
      .listRewards()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusNetworkError);
    expect((error as Error).message).toContain('not valid JSON');
  });

  it('raises PlutusSchemaError naming the path and value of a field of the wrong type', async () => {
    sandbox.setFaults({ wrongType: { times: 1, routes: ['rewards'] } });
    const rewardsError = await client()
      .listRewards()
      .catch((e: unknown) => e);
    expect(rewardsError).toBeInstanceOf(PlutusSchemaError);
    expect(rewardsError).toMatchObject({ path: '/0/amount', value: 'twelve' });

    sandbox.setFaults({ wrongType: { times: 1, routes: ['transactions'] } });
    const txError = await client()
      .allTransactions()
      .catch((e: unknown) => e);
    expect(txError).toMatchObject({ path: '/data/transactions_view/0/amount', value: '12.5x' });
  });

  it("with rowValidation 'quarantine', hands each row that breaks the document back apart, with its path and problem", async () => {
    const quarantining = client({ rowValidation: 'quarantine' });
    sandbox.setFaults({ wrongType: { times: 1, routes: ['rewards'] } });
    const seen: { ids: string[]; invalid: { path: string; problem: string; row: unknown }[] } = { ids: [], invalid: [] };
    await quarantining.readRewards({}, (rows, details) => {
      seen.ids.push(...rows.map((row) => row.id));
      seen.invalid.push(...details.invalid);
    });
    const ledger = sandbox.data().rewards;
    expect(seen.invalid).toEqual([{ path: '/0/amount', problem: 'must be number', row: { ...ledger[0], amount: 'twelve' } }]);
    expect(seen.ids).toEqual(ledger.slice(1).map((row) => row.id));

    sandbox.setFaults({ wrongType: { times: 1, routes: ['transactions'] } });
    const pages = [];
    for await (const page of quarantining.transactions({ pageSize: 50 })) pages.push(page);
    expect(pages[0].invalid).toEqual([expect.objectContaining({ path: '/data/transactions_view/0/amount', problem: 'must be integer' })]);
    expect(pages.reduce((n, page) => n + page.rows.length + page.invalid.length, 0)).toBe(sandbox.data().transactions.length);

    // A response whose shape is wrong as a whole still fails.
    sandbox.setFaults({ malformedJson: { routes: ['rewards'] } });
    await expect(client({ rowValidation: 'quarantine', retry: { maxAttempts: 1 } }).listRewards()).rejects.toBeInstanceOf(
      PlutusNetworkError,
    );
    sandbox.setFaults({});
    expect(() => client({ rowValidation: 'loose' as never })).toThrow("rowValidation must be 'strict' or 'quarantine'");
  });

  it('signs in again once when Hasura says invalid-jwt (with HTTP 200) or REST says 401', async () => {
    sandbox.setFaults({ expiredToken: { times: 1, routes: ['transactions'] } });
    const plutus = client();
    await expect(plutus.allTransactions({ pageSize: 5000 })).resolves.toHaveLength(sandbox.data().transactions.length);
    expect(sandbox.stats().requests.login).toBe(2);

    sandbox.setFaults({ expiredToken: { times: 1, routes: ['rewards'] } });
    await expect(plutus.listRewards()).resolves.toHaveLength(sandbox.data().rewards.length);
    expect(sandbox.stats().requests.login).toBe(3);
  });

  it('raises PlutusAuthError when even a fresh token is refused', async () => {
    sandbox.setFaults({ expiredToken: { routes: ['transactions'] } });
    const error = await client()
      .allTransactions()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusAuthError);
    expect(sandbox.stats().requests.login).toBe(2);
  });

  it('uses a copied id_token, and explains when it has expired', async () => {
    await expect(client({ auth: { idToken: sandbox.issueToken() } }).listRewards()).resolves.toBeDefined();
    const expired = sandbox.issueToken(-60);
    const error = await client({ auth: { idToken: expired } })
      .allTransactions()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusAuthError);
    expect((error as Error).message).toContain('copy a fresh one');
    expect(sandbox.stats().requests.login).toBe(0);
  });

  it('retries a refused sign-in once with a fresh TOTP code', async () => {
    sandbox.setFaults({ rejectLogin: { times: 1 } });
    await expect(client().listRewards()).resolves.toBeDefined();
    expect(sandbox.stats().requests.login).toBe(2);
  });

  it('never puts a password, TOTP secret or token in an error or a log line', async () => {
    const token = sandbox.issueToken(-60);
    const failures: unknown[] = [];
    failures.push(
      await client({ auth: { ...sandbox.credentials, password: 'wrong-password-123' } })
        .listRewards()
        .catch((e: unknown) => e),
    );
    failures.push(
      await client({ auth: { idToken: token } })
        .listRewards()
        .catch((e: unknown) => e),
    );
    sandbox.setFaults({ serverError: { routes: ['rewards'] } });
    failures.push(
      await client({ retry: { maxAttempts: 2 } })
        .listRewards()
        .catch((e: unknown) => e),
    );
    sandbox.setFaults({ wrongType: { routes: ['rewards'] } });
    failures.push(
      await client()
        .listRewards()
        .catch((e: unknown) => e),
    );
    expect(failures.every((failure) => failure instanceof PlutusError)).toBe(true);
    const text = [...failures.map((f) => `${String(f)} ${JSON.stringify(f)} ${(f as Error).stack}`), ...logLines].join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of ['wrong-password-123', sandbox.credentials.password, sandbox.credentials.totpSecret, token]) {
      expect(text).not.toContain(secret);
    }
  });

  it('names itself in the User-Agent', async () => {
    const agents: string[] = [];
    await client({
      userAgent: 'rewards-pipeline/1.0',
      fetch: (request) => {
        agents.push(request.headers.get('user-agent') ?? '');
        return fetch(request);
      },
    }).listRewards();
    expect(agents.length).toBeGreaterThan(0);
    expect(agents.every((agent) => /^@org\/plutus-client\/\d+\.\d+\.\d+ rewards-pipeline\/1\.0$/.test(agent))).toBe(true);
  });

  it('refuses to send credentials over plain http to a host that is not loopback', () => {
    expect(() => createPlutusClient({ baseUrl: 'http://plutus.example.com', auth: { idToken: 't' } })).toThrow(
      /Refusing to send credentials/,
    );
    expect(() => createPlutusClient({ baseUrl: 'http://localhost:1234', auth: { idToken: 't' } })).not.toThrow();
  });
});
