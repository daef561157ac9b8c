import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { PlutusAuthError, PlutusError, PlutusGraphQLError, PlutusNetworkError, PlutusSchemaError, PlutusServerError, PlutusTimeoutError } from './errors';
import type { components, paths } from './generated/plutus-api';
import { silentLogger, type PlutusLogger } from './logger';
import { orderedPool } from './ordered-pool';
import { forEachArrayBatch, JsonArrayStreamError } from './json-array-stream';
import { assertMatchesSchema, findSchemaMismatch } from './response-validation';
import { backoffDelayMs, defaultRetryPolicy, sleep as realSleep, type RetryPolicy } from './retry-policy';
import { createRetryingFetch, describeTarget } from './retrying-fetch';
import {
  passwordTotpTokenProvider,
  staticTokenProvider,
  type LoginAttempt,
  type LoginBody,
  type PasswordTotpCredentials,
  type TokenProvider,
} from './token-provider';
import { TRANSACTIONS_VIEW_QUERY } from './transactions-query';
import { CLIENT_VERSION } from './version';

export type Reward = components['schemas']['Reward'];
export type Transaction = components['schemas']['Transaction'];

/** How to authenticate: a copied id_token, email + password + TOTP secret, or your own provider. */
export type PlutusAuth = { idToken: string } | PasswordTotpCredentials | { tokenProvider: TokenProvider };

export interface PlutusHosts {
  /** Sign-in host. Default https://authenticate.plutus.it */
  auth: string;
  /** REST host of the rewards ledger. Default https://api.plutus.it */
  api: string;
  /** Hasura host of the card transactions. Default https://hasura.plutus.it */
  graphql: string;
}

export const PLUTUS_HOSTS: PlutusHosts = {
  auth: 'https://authenticate.plutus.it',
  api: 'https://api.plutus.it',
  graphql: 'https://hasura.plutus.it',
};

export interface PlutusClientOptions {
  auth: PlutusAuth;
  /** One base URL for all three calls (a sandbox), or each host. Defaults to Plutus's own hosts. */
  baseUrl?: string;
  hosts?: Partial<PlutusHosts>;
  /** Per-attempt timeout. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Appended to the client's own User-Agent, e.g. `my-app/1.2`. */
  userAgent?: string;
  /** Validate every response against the OpenAPI document. Default true. */
  validateResponses?: boolean;
  logger?: PlutusLogger;
  /** For tests and proxies. */
  fetch?: (request: Request) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
}

export interface TransactionsQuery {
  /** Inclusive lower bound on the transaction date. Default: no bound. */
  from?: Date | string;
  /** Inclusive upper bound. Default: now, fixed when the iteration starts, so pages stay stable. */
  to?: Date | string;
  /** Only this transaction type. */
  type?: string;
  /** Rows per request. Default 500. */
  pageSize?: number;
  /** Requests in flight at once; pages still come out in order. Default 4. */
  concurrency?: number;
}

export interface TransactionsPage {
  /** 0 for the first page. */
  pageIndex: number;
  offset: number;
  rows: Transaction[];
  /** Rows matching the query, from Hasura's aggregate: for progress reporting. */
  totalCount: number;
  /** Rows yielded so far, this page included. */
  fetchedCount: number;
}

export interface RewardsQuery {
  /**
   * Keep only rewards whose `updatedAt` (else `createdAt`) is at or after this instant; a row whose timestamp
   * cannot be read is kept, for the caller to judge. The API has no such filter: the whole ledger still comes
   * over the wire, but it is read as a stream and only the kept rows are held.
   */
  changedSince?: Date | string;
}

export interface PlutusClient {
  /** The PLU rewards ledger (all of it, or what changed since an instant), read as a stream. */
  listRewards(query?: RewardsQuery): Promise<Reward[]>;
  /**
   * The same rows handed over in batches as they arrive, so a ledger of millions is never held whole; answers
   * how many rows the ledger had. When a body breaks off and is read again, `onRestart` comes first: drop what
   * that attempt had delivered.
   */
  readRewards(query: RewardsQuery, onRows: (rows: Reward[]) => void | Promise<void>, onRestart?: () => void | Promise<void>): Promise<number>;
  /** Card transactions, newest first, as pages fetched with bounded concurrency and yielded in order. */
  transactions(query?: TransactionsQuery): AsyncGenerator<TransactionsPage>;
  /** All matching transactions in one array (convenient for small windows). */
  allTransactions(query?: TransactionsQuery): Promise<Transaction[]>;
}

type Unauthorized = { unauthorized: true; status: number };

/** Creates a client. Nothing is sent until the first call. */
export function createPlutusClient(options: PlutusClientOptions): PlutusClient {
  const hosts: PlutusHosts = {
    auth: options.hosts?.auth ?? options.baseUrl ?? PLUTUS_HOSTS.auth,
    api: options.hosts?.api ?? options.baseUrl ?? PLUTUS_HOSTS.api,
    graphql: options.hosts?.graphql ?? options.baseUrl ?? PLUTUS_HOSTS.graphql,
  };
  for (const url of Object.values(hosts)) assertSafeHost(url);
  const logger = options.logger ?? silentLogger;
  const sleep = options.sleep ?? realSleep;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const validate = options.validateResponses ?? true;
  const retryingFetch = createRetryingFetch({
    policy,
    timeoutMs: options.timeoutMs ?? 30_000,
    logger,
    fetch: options.fetch,
    sleep,
  });
  const userAgent = `@org/plutus-client/${CLIENT_VERSION}${options.userAgent ? ` ${options.userAgent}` : ''}`;
  const userAgentMiddleware: Middleware = {
    onRequest({ request }) {
      request.headers.set('User-Agent', userAgent);
      return request;
    },
  };
  const make = (baseUrl: string): Client<paths> => {
    const client = createClient<paths>({ baseUrl, fetch: retryingFetch });
    client.use(userAgentMiddleware);
    return client;
  };
  const authClient = make(hosts.auth);
  const apiClient = make(hosts.api);
  const graphqlClient = make(hosts.graphql);

  const login = async (body: LoginBody): Promise<LoginAttempt> => {
    const { data, response } = await withBodyRetries(() => authClient.POST('/auth/login', { body }));
    if (response.ok && data && typeof data.id_token === 'string' && data.id_token) {
      if (validate) assertMatchesSchema('LoginResponse', data);
      return { idToken: data.id_token };
    }
    if (response.status >= 400 && response.status < 500) return { status: response.status };
    if (response.ok) return { status: response.status };
    throw new PlutusServerError(`Sign-in answered ${response.status}.`, { status: response.status, attempts: 1 });
  };

  const tokenProvider = toTokenProvider(options.auth, login);
  const authMiddleware: Middleware = {
    async onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${await tokenProvider.getToken()}`);
      return request;
    },
  };
  apiClient.use(authMiddleware);
  graphqlClient.use(authMiddleware);

  /** Retries a call whose body could not be read or parsed (cut off, malformed JSON), as transient. */
  async function withBodyRetries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof PlutusError) throw error;
        if (attempt >= policy.maxAttempts) throw bodyFailure(error, attempt);
        logger.warn('plutus response body unreadable, retrying', { attempt, error: (error as Error).name });
        await sleep(backoffDelayMs(policy, attempt));
      }
    }
  }

  function bodyFailure(error: unknown, attempts: number): PlutusError {
    const name = (error as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new PlutusTimeoutError(`Reading a Plutus response timed out on all ${attempts} attempts.`, {
        timeoutMs: options.timeoutMs ?? 30_000,
        attempts,
      });
    }
    const what = error instanceof SyntaxError ? 'was not valid JSON' : 'was cut off';
    return new PlutusNetworkError(`A Plutus response ${what} on all ${attempts} attempts.`, { attempts, cause: error });
  }

  /** Calls once, and once more with a fresh token when the first was rejected; then gives up. */
  async function authorized<T>(describe: string, call: () => Promise<T | Unauthorized>): Promise<T> {
    const first = await withBodyRetries(call);
    if (!isUnauthorized(first)) return first;
    if (!tokenProvider.invalidate()) {
      // Ask the provider for its own explanation (a static token explains it must be replaced).
      await tokenProvider.getToken();
      throw new PlutusAuthError(`${describe} was refused (HTTP ${first.status}) and the token cannot be renewed.`);
    }
    logger.debug('plutus token rejected, signing in again', { call: describe });
    const second = await withBodyRetries(call);
    if (!isUnauthorized(second)) return second;
    throw new PlutusAuthError(`${describe} was refused even with a fresh token (HTTP ${second.status}); check the account.`, {
      status: second.status,
    });
  }

  async function readRewards(
    query: RewardsQuery,
    onRows: (rows: Reward[]) => void | Promise<void>,
    onRestart?: () => void | Promise<void>,
  ): Promise<number> {
    const sinceMs = query.changedSince === undefined ? -Infinity : Date.parse(toIso(query.changedSince, 'changedSince'));
    let attempted = false;
    return authorized<number>('GET /platform/transactions/pluton', async () => {
      // A body that broke off part-way is read again from the start: the consumer drops that attempt's rows.
      if (attempted) await onRestart?.();
      attempted = true;
      const { data, response } = await apiClient.GET('/platform/transactions/pluton', { parseAs: 'stream' });
      if (response.status === 401 || response.status === 403) {
        await data?.cancel();
        return { unauthorized: true, status: response.status };
      }
      if (!response.ok) throw unexpectedStatus(response);
      if (!data) throw new PlutusSchemaError({ schema: 'Reward[]', path: '', value: undefined, problem: 'must be array' });
      let index = 0;
      try {
        await forEachArrayBatch(data, async (values) => {
          const kept: Reward[] = [];
          for (const row of values) {
            const changed = Date.parse(String((row as Reward)?.updatedAt ?? (row as Reward)?.createdAt));
            if (Number.isNaN(changed) || changed >= sinceMs) {
              if (validate) {
                const mismatch = findSchemaMismatch('Reward', row);
                if (mismatch) throw new PlutusSchemaError({ schema: 'Reward[]', ...mismatch, path: `/${index}${mismatch.path}` });
              }
              kept.push(row as Reward);
            }
            index += 1;
          }
          if (kept.length) await onRows(kept);
        });
      } catch (error) {
        if (error instanceof JsonArrayStreamError) throw new PlutusSchemaError({ schema: 'Reward[]', path: '', value: undefined, problem: 'must be array' });
        throw error;
      }
      return index;
    });
  }

  async function listRewards(query: RewardsQuery = {}): Promise<Reward[]> {
    let rows: Reward[] = [];
    await readRewards(query, (batch) => void rows.push(...batch), () => void (rows = []));
    return rows;
  }

  async function fetchTransactionsPage(
    variables: { from: string | null; to: string | null; type: string | null },
    offset: number,
    limit: number,
  ): Promise<{ rows: Transaction[]; totalCount: number }> {
    return authorized<{ rows: Transaction[]; totalCount: number }>('POST /v1alpha1/graphql transactions_view', async () => {
      const { data, response } = await graphqlClient.POST('/v1alpha1/graphql', {
        body: {
          operationName: 'transactions_view',
          query: TRANSACTIONS_VIEW_QUERY,
          variables: { ...variables, offset, limit },
        },
      });
      if (response.status === 401 || response.status === 403) return { unauthorized: true, status: response.status };
      if (!response.ok) throw unexpectedStatus(response);
      const body = validate
        ? assertMatchesSchema<components['schemas']['TransactionsViewResponse']>('TransactionsViewResponse', data)
        : (data as components['schemas']['TransactionsViewResponse']);
      const firstError = body.errors?.[0];
      if (firstError) {
        const code = firstError.extensions?.code;
        // Hasura reports an expired or missing token with HTTP 200 and an error code, not 401.
        if (code === 'invalid-jwt' || code === 'invalid-headers' || code === 'access-denied') {
          return { unauthorized: true, status: 200 };
        }
        throw new PlutusGraphQLError(`transactions_view failed: ${firstError.message} (${code ?? 'no code'}).`, code);
      }
      if (!body.data) throw new PlutusGraphQLError('transactions_view answered neither data nor errors.');
      return { rows: body.data.transactions_view, totalCount: body.data.transactions_view_aggregate.aggregate.totalCount };
    });
  }

  async function* transactions(query: TransactionsQuery = {}): AsyncGenerator<TransactionsPage> {
    const pageSize = positiveInteger(query.pageSize ?? 500, 'pageSize');
    const concurrency = positiveInteger(query.concurrency ?? 4, 'concurrency');
    const variables = {
      from: query.from === undefined ? null : toIso(query.from, 'from'),
      to: toIso(query.to ?? new Date(), 'to'),
      type: query.type ?? null,
    };
    const first = await fetchTransactionsPage(variables, 0, pageSize);
    let knownTotal = first.totalCount;
    let fetchedCount = first.rows.length;
    yield { pageIndex: 0, offset: 0, rows: first.rows, totalCount: knownTotal, fetchedCount };
    if (first.rows.length < pageSize) return;
    const offsetOf = (index: number) => (index + 1) * pageSize;
    const pages = orderedPool(
      concurrency,
      (index) => offsetOf(index) < knownTotal,
      (index) => fetchTransactionsPage(variables, offsetOf(index), pageSize),
    );
    let index = 0;
    for await (const page of pages) {
      // A total that grows mid-way (rows back-dated into the window) extends the walk instead of losing rows.
      knownTotal = Math.max(knownTotal, page.totalCount);
      fetchedCount += page.rows.length;
      yield { pageIndex: index + 1, offset: offsetOf(index), rows: page.rows, totalCount: knownTotal, fetchedCount };
      index += 1;
    }
  }

  async function allTransactions(query: TransactionsQuery = {}): Promise<Transaction[]> {
    const rows: Transaction[] = [];
    for await (const page of transactions(query)) rows.push(...page.rows);
    return rows;
  }

  return { listRewards, readRewards, transactions, allTransactions };
}

function toTokenProvider(auth: PlutusAuth, login: (body: LoginBody) => Promise<LoginAttempt>): TokenProvider {
  if ('tokenProvider' in auth) return auth.tokenProvider;
  if ('idToken' in auth) return staticTokenProvider(auth.idToken);
  if ('email' in auth) return passwordTotpTokenProvider(auth, login);
  throw new PlutusAuthError('No credentials: pass { idToken }, { email, password, totpSecret } or { tokenProvider }.');
}

function isUnauthorized(value: unknown): value is Unauthorized {
  return typeof value === 'object' && value !== null && (value as Unauthorized).unauthorized === true;
}

function unexpectedStatus(response: Response): PlutusServerError {
  const target = describeTarget(new Request(response.url || 'http://unknown/'));
  return new PlutusServerError(`Unexpected HTTP ${response.status} from ${target.replace(/^GET /, '')}.`, {
    status: response.status,
    attempts: 1,
  });
}

/** Credentials travel only over TLS, except to this machine (a sandbox on loopback). */
export function assertSafeHost(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PlutusError('PLUTUS_CONFIG', `Not a URL: ${JSON.stringify(url)}.`);
  }
  if (parsed.protocol === 'https:') return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (parsed.protocol === 'http:' && loopback) return;
  throw new PlutusError(
    'PLUTUS_CONFIG',
    `Refusing to send credentials to ${parsed.protocol}//${parsed.host}: use https, or a loopback address for a sandbox.`,
  );
}

function toIso(value: Date | string, name: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new PlutusError('PLUTUS_CONFIG', `${name} is not a date: ${String(value)}.`);
  return date.toISOString();
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PlutusError('PLUTUS_CONFIG', `${name} must be a whole number of at least 1, got ${value}.`);
  }
  return value;
}
