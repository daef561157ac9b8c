import createClient, { type Client, type Middleware } from 'openapi-fetch';
import {
  PlutusAuthError,
  PlutusError,
  PlutusGraphQLError,
  PlutusNetworkError,
  PlutusSchemaError,
  PlutusServerError,
  PlutusTimeoutError,
} from './errors';
import type { components, paths } from './generated/plutus-api';
import { silentLogger, type PlutusLogger } from './logger';
import { orderedPool } from './ordered-pool';
import { forEachArrayBatch, JsonArrayStreamError } from './json-array-stream';
import { assertMatchesSchema } from './response-validation';
import { checkRows, countUnknownFields, type CheckedRows, type InvalidRow } from './row-contract';
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

/**
 * The document's fields of a row, without the open index signature `additionalProperties` gives the generated
 * type: a misspelled field is a compile error. Fields the document does not know still arrive at run time (they
 * are counted in `unknownFields`); read them through `Record<string, unknown>` on purpose.
 */
type DocumentedFields<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/** The transaction types the document names. Another one (a type Plutus adds later) still arrives, as a string. */
export type TransactionType = 'PURCHASE' | 'REFUND' | 'TOP_UP';

export type Reward = DocumentedFields<components['schemas']['Reward']>;
export type { InvalidRow } from './row-contract';
export type Transaction = Omit<DocumentedFields<components['schemas']['Transaction']>, 'type'> & {
  // `string & {}` keeps the named types offered by editors while accepting any other string.
  type?: TransactionType | (string & {}) | null;
};

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
  /**
   * What a row that breaks the document does. `strict` (default): the call fails with PlutusSchemaError naming
   * the path and value. `quarantine`: valid rows come back as usual, and each invalid row comes back apart, as
   * it was, with its path and problem (`invalid` of a page, or of a rewards batch), so one bad row never blocks
   * the rest. A response whose shape is wrong as a whole (not an array, no `data`, GraphQL errors) fails either way.
   */
  rowValidation?: 'strict' | 'quarantine';
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
  /** Rows that broke the document (only with `rowValidation: 'quarantine'`; otherwise the call fails). */
  invalid: InvalidRow[];
  /** Fields the document does not know, by name: how many rows of this page carried each. */
  unknownFields: Record<string, number>;
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
  /**
   * Called for every row of the ledger, kept or not, with its change instant (`updatedAt`, else `createdAt`) in
   * epoch milliseconds (NaN when unreadable): a summary of the whole ledger in the same pass, for a caller that
   * keeps only the recent rows but compares all of them (a body read again restarts it: see `onRestart`).
   */
  onLedgerRow?: (changedAtMs: number) => void;
  /**
   * Keep only rewards created in [createdFrom, createdBefore): a backfill's month, say (half-open, so months never
   * overlap nor leave a gap). Same rules as `changedSince`: filtered as the ledger streams by; a row whose
   * `createdAt` cannot be read is kept.
   */
  createdFrom?: Date | string;
  createdBefore?: Date | string;
}

export interface PlutusClient {
  /**
   * Signs in now (or checks the copied token is there), so wrong credentials show before the first call; every
   * call signs in by itself when needed, so calling this is optional.
   */
  login(): Promise<void>;
  /** The PLU rewards ledger (all of it, or what changed since an instant), read as a stream. */
  listRewards(query?: RewardsQuery): Promise<Reward[]>;
  /**
   * The same rows handed over in batches as they arrive, so a ledger of millions is never held whole; answers
   * how many rows the ledger had. When a body breaks off and is read again, `onRestart` comes first: drop what
   * that attempt had delivered.
   */
  readRewards(
    query: RewardsQuery,
    onRows: (rows: Reward[], details: { invalid: InvalidRow[]; unknownFields: Record<string, number> }) => void | Promise<void>,
    onRestart?: () => void | Promise<void>,
  ): Promise<number>;
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
  const quarantineRows = options.rowValidation === 'quarantine';
  if (options.rowValidation !== undefined && !['strict', 'quarantine'].includes(options.rowValidation)) {
    throw new TypeError(`rowValidation must be 'strict' or 'quarantine', got ${JSON.stringify(options.rowValidation)}.`);
  }
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
    onRows: (rows: Reward[], details: { invalid: InvalidRow[]; unknownFields: Record<string, number> }) => void | Promise<void>,
    onRestart?: () => void | Promise<void>,
  ): Promise<number> {
    const sinceMs = query.changedSince === undefined ? -Infinity : Date.parse(toIso(query.changedSince, 'changedSince'));
    const createdFromMs = query.createdFrom === undefined ? -Infinity : Date.parse(toIso(query.createdFrom, 'createdFrom'));
    const createdBeforeMs = query.createdBefore === undefined ? Infinity : Date.parse(toIso(query.createdBefore, 'createdBefore'));
    const createdInWindow = (row: unknown) => {
      if (createdFromMs === -Infinity && createdBeforeMs === Infinity) return true;
      const created = Date.parse(String((row as Reward)?.createdAt));
      return Number.isNaN(created) || (created >= createdFromMs && created < createdBeforeMs);
    };
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
          const kept: unknown[] = [];
          const firstIndex = index;
          const positions: number[] = [];
          for (const row of values) {
            const changed = Date.parse(String((row as Reward)?.updatedAt ?? (row as Reward)?.createdAt));
            query.onLedgerRow?.(changed);
            if ((Number.isNaN(changed) || changed >= sinceMs) && createdInWindow(row)) {
              kept.push(row);
              positions.push(index);
            }
            index += 1;
          }
          if (!kept.length) return;
          if (!validate) return onRows(kept as Reward[], { invalid: [], unknownFields: {} });
          const checked = checkRows<Reward>('Reward', kept, '', 0);
          // Paths point into the whole ledger, not into the batch.
          for (const bad of checked.invalid)
            bad.path = bad.path.replace(/^\/(\d+)/, (_, at: string) => `/${positions[Number(at)] ?? firstIndex}`);
          if (checked.invalid.length && !quarantineRows) {
            const first = checked.invalid[0];
            throw new PlutusSchemaError({
              schema: 'Reward[]',
              path: first.path,
              value: valueAt(first.row, first.path.replace(/^\/\d+/, '')),
              problem: first.problem,
            });
          }
          await onRows(checked.rows, { invalid: checked.invalid, unknownFields: checked.unknownFields });
        });
      } catch (error) {
        if (error instanceof JsonArrayStreamError)
          throw new PlutusSchemaError({ schema: 'Reward[]', path: '', value: undefined, problem: 'must be array' });
        throw error;
      }
      return index;
    });
  }

  async function listRewards(query: RewardsQuery = {}): Promise<Reward[]> {
    let rows: Reward[] = [];
    await readRewards(
      query,
      (batch) => void rows.push(...batch),
      () => void (rows = []),
    );
    return rows;
  }

  async function fetchTransactionsPage(
    variables: { from: string | null; to: string | null; type: string | null },
    offset: number,
    limit: number,
  ): Promise<CheckedRows<Transaction> & { totalCount: number }> {
    return authorized<CheckedRows<Transaction> & { totalCount: number }>('POST /v1alpha1/graphql transactions_view', async () => {
      const { data, response } = await graphqlClient.POST('/v1alpha1/graphql', {
        body: {
          operationName: 'transactions_view',
          query: TRANSACTIONS_VIEW_QUERY,
          variables: { ...variables, offset, limit },
        },
      });
      if (response.status === 401 || response.status === 403) return { unauthorized: true, status: response.status };
      if (!response.ok) throw unexpectedStatus(response);
      type ViewResponse = components['schemas']['TransactionsViewResponse'];
      const raw = data as ViewResponse | undefined;
      const rowsOf = (response: ViewResponse | undefined) => response?.data?.transactions_view as unknown;
      // In quarantine mode the envelope is checked without its rows, then each row on its own.
      const body =
        validate && quarantineRows && Array.isArray(rowsOf(raw))
          ? {
              ...assertMatchesSchema<ViewResponse>('TransactionsViewResponse', { ...raw, data: { ...raw?.data, transactions_view: [] } }),
              data: raw?.data,
            }
          : validate
            ? assertMatchesSchema<ViewResponse>('TransactionsViewResponse', data)
            : (data as ViewResponse);
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
      const totalCount = body.data.transactions_view_aggregate.aggregate.totalCount;
      const values = body.data.transactions_view as unknown[];
      if (!validate) return { rows: values as Transaction[], invalid: [], unknownFields: {}, totalCount };
      // Strict mode has checked every row already, with the response.
      if (!quarantineRows)
        return { rows: values as Transaction[], invalid: [], unknownFields: countUnknownFields('Transaction', values), totalCount };
      return { ...checkRows<Transaction>('Transaction', values, '/data/transactions_view'), totalCount };
    });
  }

  async function* transactions(query: TransactionsQuery = {}): AsyncGenerator<TransactionsPage> {
    const pageSize = positiveInteger(query.pageSize ?? 500, 'pageSize');
    const concurrency = positiveInteger(query.concurrency ?? 4, 'concurrency');
    const variables = {
      from: query.from === undefined ? null : toIso(query.from, 'from'),
      to: toIso(query.to ?? new Date(), 'to', 'end'),
      type: query.type ?? null,
    };
    const first = await fetchTransactionsPage(variables, 0, pageSize);
    let knownTotal = first.totalCount;
    let fetchedCount = first.rows.length + first.invalid.length;
    yield {
      pageIndex: 0,
      offset: 0,
      rows: first.rows,
      invalid: first.invalid,
      unknownFields: first.unknownFields,
      totalCount: knownTotal,
      fetchedCount,
    };
    if (first.rows.length + first.invalid.length < pageSize) return;
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
      fetchedCount += page.rows.length + page.invalid.length;
      yield {
        pageIndex: index + 1,
        offset: offsetOf(index),
        rows: page.rows,
        invalid: page.invalid,
        unknownFields: page.unknownFields,
        totalCount: knownTotal,
        fetchedCount,
      };
      index += 1;
    }
  }

  async function allTransactions(query: TransactionsQuery = {}): Promise<Transaction[]> {
    const rows: Transaction[] = [];
    for await (const page of transactions(query)) rows.push(...page.rows);
    return rows;
  }

  async function signInNow(): Promise<void> {
    await tokenProvider.getToken();
  }

  return { login: signInNow, listRewards, readRewards, transactions, allTransactions };
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
  // fetch refuses a URL with credentials in it, an error every retry would repeat.
  if (parsed.username || parsed.password)
    throw new PlutusError(
      'PLUTUS_CONFIG',
      `The Plutus URL carries a user name or password (${parsed.protocol}//…@${parsed.host}): give credentials through auth, not in the URL.`,
    );
  if (parsed.protocol === 'https:') return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (parsed.protocol === 'http:' && loopback) return;
  throw new PlutusError(
    'PLUTUS_CONFIG',
    `Refusing to send credentials to ${parsed.protocol}//${parsed.host}: use https, or a loopback address for a sandbox.`,
  );
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * An instant from a Date, an ISO date (`2026-10-31`: that UTC day, its end when it is an inclusive upper bound) or
 * an ISO instant with its offset. Anything else (`01/10/2026`, which JavaScript would read as 10 January, or a time
 * without an offset, read in this machine's zone) is refused rather than guessed.
 */
function toIso(value: Date | string, name: string, end: 'start' | 'end' = 'start'): string {
  if (typeof value === 'string' && !ISO_DATE.test(value) && !ISO_INSTANT.test(value))
    throw new PlutusError(
      'PLUTUS_CONFIG',
      `${name} must be an ISO date (2026-10-31) or instant with its offset (2026-10-31T12:00:00Z), got ${JSON.stringify(value)}.`,
    );
  const date = value instanceof Date ? value : new Date(ISO_DATE.test(value) ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(date.getTime()) || (typeof value === 'string' && ISO_DATE.test(value) && date.toISOString().slice(0, 10) !== value))
    throw new PlutusError('PLUTUS_CONFIG', `${name} is not a date: ${String(value)}.`);
  if (end === 'end' && typeof value === 'string' && ISO_DATE.test(value)) return new Date(date.getTime() + 86_400_000 - 1).toISOString();
  return date.toISOString();
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PlutusError('PLUTUS_CONFIG', `${name} must be a whole number of at least 1, got ${value}.`);
  }
  return value;
}

/** The value at a JSON pointer inside a row (for an error message). */
function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const key of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
