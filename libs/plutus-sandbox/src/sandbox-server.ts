import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transaction } from '@org/plutus-client';
import { totpCode, findSchemaMismatch } from '@org/plutus-client/internal';
import { loadDataset } from './dataset-files';
import { FaultInjector, type FaultName, type SandboxFaults, type SandboxRoute } from './sandbox-faults';
import { signJwt, verifyJwt } from './sandbox-jwt';
import { generateHistory, type SandboxDataset } from './synthetic-history';

export interface SandboxCredentials {
  email: string;
  password: string;
  /** Base32 secret; the sandbox accepts its TOTP code for the current 30 s step and the ones either side. */
  totpSecret: string;
}

/** The one cardholder the sandbox knows. Public on purpose: it guards nothing. */
export const DEMO_CREDENTIALS: SandboxCredentials = {
  email: 'demo@plutus.example',
  password: 'sandbox-password',
  totpSecret: 'JBSWY3DPEHPK3PXP',
};

export interface SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox never listens beyond this machine unless told. */
  host?: string;
  /** Seed of the synthetic history. Default 42. */
  seed?: number;
  /** Months of history before `now`. Default 36. */
  months?: number;
  /**
   * Where the history starts, instead of `months` before `now`: sandboxes started at different times (several
   * Lambda containers) then serve the same rows, only more of them as time goes on.
   */
  start?: Date | string;
  /** The sandbox's clock. Default: the real time at start. */
  now?: Date | string;
  /** Mean purchases per day. Default 2.5. */
  purchasesPerDay?: number;
  /** Serve this dataset (a folder with rewards.json and transactions.json, or the data itself) instead. */
  dataset?: string | SandboxDataset;
  faults?: SandboxFaults;
  credentials?: SandboxCredentials;
  /** Lifetime of issued tokens. Default 3600. */
  tokenTtlSeconds?: number;
  /** Key that signs tokens. Default: random per sandbox; give one so several sandboxes accept each other's tokens. */
  tokenSecret?: string;
  /** Called with one line per request (method, path, status), for the CLI's log. */
  onRequest?: (line: string) => void;
  /**
   * Let a test in any language set faults over HTTP: `PUT /__sandbox/faults` with the `SandboxFaults` JSON (`{}`
   * clears them), `GET` reads them back. Answered only to a client on this machine; never turn it on for a
   * sandbox anyone else can reach (the trial stage's public function does not).
   */
  faultControl?: boolean;
}

/** Where faults are set over HTTP, when `faultControl` is on. */
export const FAULT_CONTROL_PATH = '/__sandbox/faults';

export interface SandboxStats {
  requests: Record<SandboxRoute | 'other', number>;
  /** Most requests in flight at once since start (or since `resetStats`). */
  maxConcurrent: number;
}

export interface Sandbox {
  /** Base URL of all three Plutus hosts, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  credentials: SandboxCredentials;
  now(): Date;
  /** Moves the clock on: new purchases appear and reward states move (generated data only). */
  advanceClock(days: number): void;
  setNow(now: Date | string): void;
  /** What the sandbox serves right now. */
  data(): SandboxDataset;
  setFaults(faults: SandboxFaults): void;
  firedFaults(name: FaultName): number;
  stats(): SandboxStats;
  resetStats(): void;
  /** Resolves once no request is being handled (slow answers to requests a client gave up on included). */
  drain(): Promise<void>;
  /** A valid token without signing in, for tests. A negative ttl gives an already-expired token. */
  issueToken(ttlSeconds?: number): string;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const MAX_BODY_BYTES = 1_000_000;

/** Starts a local HTTP server that serves the Plutus surface of openapi/plutus.yaml. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const credentials = options.credentials ?? DEMO_CREDENTIALS;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const secret = options.tokenSecret ?? randomBytes(32).toString('hex');
  const faults = new FaultInjector();
  let currentFaults: SandboxFaults = options.faults ?? {};
  faults.set(options.faults ?? {});
  let nowMs = options.now === undefined ? Date.now() : toMs(options.now);
  const fixed = options.dataset === undefined ? undefined : await loadDataset(options.dataset);
  const months = options.months ?? 36;
  const start = new Date(nowMs);
  start.setUTCMonth(start.getUTCMonth() - months);
  if (options.start !== undefined) start.setTime(toMs(options.start));
  const seed = options.seed ?? 42;

  // Sorted once per clock position, with dates parsed once, so each page request is a cheap scan.
  let cache:
    | {
        atMs: number;
        dataset: SandboxDataset;
        byDateDesc: { row: Transaction; at: number; json?: string }[];
        rewardsJson: (string | undefined)[];
      }
    | undefined;
  const current = () => {
    if (!cache || cache.atMs !== nowMs) {
      const dataset = fixed ?? generateHistory({ seed, start, now: new Date(nowMs), purchasesPerDay: options.purchasesPerDay });
      // A date that cannot be read (only in a replayed dataset that breaks the document) sorts as 1970, so the
      // first run, which asks for everything, still gets the row as the API would have sent it.
      const byDateDesc = dataset.transactions
        .map((row): { row: Transaction; at: number; json?: string } => ({ row, at: Date.parse(row.date) || 0 }))
        .sort((a, b) => b.at - a.at || (a.row.id < b.row.id ? 1 : a.row.id > b.row.id ? -1 : 0));
      cache = { atMs: nowMs, dataset, byDateDesc, rewardsJson: [] };
    }
    return cache;
  };

  let inFlight = 0;
  // Handlers still running, even for requests whose client has gone (inFlight drops when the socket closes).
  let handling = 0;
  let stats: SandboxStats = freshStats();
  const issueToken = (ttlSeconds = tokenTtlSeconds) => {
    const iat = Math.floor(Date.now() / 1000);
    return signJwt({ sub: 'sandbox-cardholder', email: credentials.email, iss: 'plutus-sandbox', iat, exp: iat + ttlSeconds }, secret);
  };

  const server = createServer((request, response) => {
    inFlight += 1;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, inFlight);
    response.on('close', () => {
      inFlight -= 1;
      options.onRequest?.(`${request.method} ${request.url} ${response.statusCode}`);
    });
    handling += 1;
    handle(request, response)
      .catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { error: 'internal', message: String(error) });
        else response.destroy();
      })
      .finally(() => {
        handling -= 1;
      });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
    if (options.faultControl && path === FAULT_CONTROL_PATH) return faultControl(request, response);
    const route = routeOf(request.method ?? 'GET', path);
    stats.requests[route ?? 'other'] += 1;
    const body = await readBody(request);
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    if (!route) return sendJson(response, 404, { error: 'not_found', message: `No route for ${request.method} ${path}` });

    const fault = faults.draw(route, ['dropConnection', 'rateLimit', 'serverError', 'malformedJson']);
    if (fault === 'dropConnection') {
      request.socket.destroy();
      return;
    }
    if (fault === 'rateLimit') {
      const retryAfter = faults.spec('rateLimit')?.retryAfterSeconds ?? 1;
      response.setHeader('Retry-After', String(retryAfter));
      return sendJson(response, 429, { error: 'rate_limited', message: 'Too many requests' });
    }
    if (fault === 'serverError') {
      return sendJson(response, faults.spec('serverError')?.status ?? 500, { error: 'internal', message: 'Injected failure' });
    }
    if (fault === 'malformedJson') {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"data": [{"id": "cut-off');
      return;
    }

    if (route === 'login') return login(body, response);
    if (route === 'rewards') return rewards(request, response);
    return transactions(request, body, response);
  }

  async function faultControl(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const peer = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (peer !== '127.0.0.1' && peer !== '::1')
      return sendJson(response, 403, { error: 'forbidden', message: 'Faults are set from this machine only.' });
    if (request.method === 'GET') return sendJson(response, 200, currentFaults);
    if (request.method !== 'PUT')
      return sendJson(response, 405, { error: 'method_not_allowed', message: `PUT or GET ${FAULT_CONTROL_PATH}` });
    const parsed = parseJson(await readBody(request));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      return sendJson(response, 400, { error: 'bad_request', message: 'The body is a SandboxFaults JSON object; {} clears every fault.' });
    currentFaults = parsed as SandboxFaults;
    faults.set(currentFaults);
    return sendJson(response, 200, currentFaults);
  }

  function login(body: string, response: ServerResponse): void {
    const parsed = parseJson(body);
    const refused = (status: number, message: string) => sendJson(response, status, { error: 'invalid_grant', message });
    if (!parsed || typeof parsed !== 'object') return refused(400, 'Body must be JSON.');
    const { email, password, token } = parsed as Record<string, unknown>;
    if (typeof email !== 'string' || typeof password !== 'string' || typeof token !== 'string') {
      return refused(400, 'email, password and token are required.');
    }
    if (email !== credentials.email || password !== credentials.password) return refused(401, 'Incorrect username or password.');
    const t = Date.now();
    const accepted = [t - 30_000, t, t + 30_000].map((at) => totpCode(credentials.totpSecret, at));
    if (!accepted.includes(token)) return refused(400, 'Invalid code received for user');
    if (faults.draw('login', ['rejectLogin'])) return refused(400, 'Invalid code received for user');
    sendJson(response, 200, { id_token: issueToken(), token_type: 'Bearer', expires_in: tokenTtlSeconds });
  }

  function bearerCheck(request: IncomingMessage, route: SandboxRoute): 'missing' | 'invalid' | 'expired' | 'ok' {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) return 'missing';
    const check = verifyJwt(header.slice('Bearer '.length), secret, Date.now());
    if (!check.valid) return check.reason === 'expired' ? 'expired' : 'invalid';
    return faults.draw(route, ['expiredToken']) ? 'expired' : 'ok';
  }

  function rewards(request: IncomingMessage, response: ServerResponse): void {
    const auth = bearerCheck(request, 'rewards');
    if (auth !== 'ok') return sendJson(response, 401, { error: 'unauthorized', message: `Token ${auth}.` });
    const { dataset, rewardsJson } = current();
    const wrongType = faults.draw('rewards', ['wrongType']);
    sendJsonArray(
      response,
      dataset.rewards,
      rewardsJson,
      wrongType ? (row, index) => (index === 0 ? { ...row, amount: 'twelve' } : row) : undefined,
    );
  }

  function transactions(request: IncomingMessage, body: string, response: ServerResponse): void {
    const graphqlError = (code: string, message: string) =>
      sendJson(response, 200, { errors: [{ extensions: { path: '$', code }, message }] });
    const auth = bearerCheck(request, 'transactions');
    if (auth === 'missing') return graphqlError('invalid-headers', "Missing 'Authorization' or 'Cookie' header in JWT authentication mode");
    if (auth === 'expired') return graphqlError('invalid-jwt', 'Could not verify JWT: JWTExpired');
    if (auth === 'invalid') return graphqlError('invalid-jwt', 'Could not verify JWT: JWSError JWSInvalidSignature');
    const parsed = parseJson(body);
    if (parsed === undefined) return graphqlError('invalid-json', 'Error in $: Failed reading: not a valid json value');
    const mismatch = findSchemaMismatch('TransactionsViewRequest', parsed);
    if (mismatch) return graphqlError('validation-failed', `${mismatch.path || '$'}: ${mismatch.problem}`);
    const variables = (parsed as { variables: Record<string, unknown> }).variables;
    const fromMs = variables['from'] == null ? undefined : Date.parse(String(variables['from']));
    const toMs = variables['to'] == null ? undefined : Date.parse(String(variables['to']));
    const type = variables['type'] == null ? undefined : String(variables['type']);
    const offset = Number(variables['offset'] ?? 0);
    const limit = variables['limit'] == null ? undefined : Number(variables['limit']);
    const sorted = current().byDateDesc;
    // Newest first: the window is a range of indexes found by binary search; no scan, no copy per request.
    const windowStart = toMs === undefined ? 0 : firstIndex(sorted, (entry) => entry.at <= toMs);
    const windowEnd = Math.max(windowStart, fromMs === undefined ? sorted.length : firstIndex(sorted, (entry) => entry.at < fromMs));
    const matching = type === undefined ? undefined : sorted.slice(windowStart, windowEnd).filter(({ row }) => row.type === type);
    const totalCount = matching ? matching.length : windowEnd - windowStart;
    const pageEnd = limit === undefined ? totalCount : Math.min(totalCount, offset + limit);
    const entries = (matching ?? sorted).slice(
      (matching ? 0 : windowStart) + offset,
      (matching ? 0 : windowStart) + Math.max(offset, pageEnd),
    );
    // Each row's JSON is made once per clock position and reused by every page that holds it: the sandbox's
    // own serving time stays out of the client's benchmark.
    const rowsJson = entries.map((entry) => (entry.json ??= JSON.stringify({ ...entry.row, __typename: 'transactions_view' })));
    if (faults.draw('transactions', ['wrongType']) && entries.length > 0) {
      rowsJson[0] = JSON.stringify({ ...entries[0].row, __typename: 'transactions_view', amount: '12.5x' });
    }
    const aggregate = {
      aggregate: { totalCount, __typename: 'transactions_view_aggregate_fields' },
      __typename: 'transactions_view_aggregate',
    };
    const text = `{"data":{"transactions_view_aggregate":${JSON.stringify(aggregate)},"transactions_view":[${rowsJson.join(',')}]}}`;
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    credentials,
    now: () => new Date(nowMs),
    // The old clock's history is let go at once, so a sandbox of millions of rows never holds two of them
    // while the next is generated: the garbage collector would otherwise spend far longer than the work.
    advanceClock(days) {
      nowMs += days * DAY_MS;
      if (!fixed) cache = undefined;
    },
    setNow(now) {
      nowMs = toMs(now);
      if (!fixed) cache = undefined;
    },
    data: () => {
      const { rewards, transactions } = current().dataset;
      return { rewards: [...rewards], transactions: [...transactions] };
    },
    setFaults: (next) => {
      currentFaults = next;
      faults.set(next);
    },
    firedFaults: (name) => faults.firedCount(name),
    stats: () => ({ requests: { ...stats.requests }, maxConcurrent: stats.maxConcurrent }),
    resetStats() {
      stats = freshStats();
    },
    issueToken,
    drain: async () => {
      while (handling > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function routeOf(method: string, path: string): SandboxRoute | undefined {
  if (method === 'POST' && path === '/auth/login') return 'login';
  if (method === 'GET' && path === '/platform/transactions/pluton') return 'rewards';
  if (method === 'POST' && path === '/v1alpha1/graphql') return 'transactions';
  return undefined;
}

function freshStats(): SandboxStats {
  return { requests: { login: 0, rewards: 0, transactions: 0, other: 0 }, maxConcurrent: 0 };
}

/** The first index whose entry passes `test`, for a test that is false then true along the array. */
function firstIndex<T>(sorted: readonly T[], test: (entry: T) => boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (test(sorted[middle])) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * A JSON array written in chunks, with backpressure: a ledger of millions of rows is never one string (V8
 * caps a string near 512 MB), and the reader can stream it as it comes. Each row's JSON is kept in `jsonCache`
 * (one per clock position, by index) for the next read of the same rows. Not a WeakMap keyed by row: with millions
 * of rows per clock its entries make every garbage collection crawl.
 */
function sendJsonArray<T>(
  response: ServerResponse,
  rows: readonly T[],
  jsonCache: (string | undefined)[],
  mapRow?: (row: T, index: number) => unknown,
): void {
  response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  const ROWS_PER_CHUNK = 2000;
  let index = 0;
  const writeMore = () => {
    while (index < rows.length) {
      const end = Math.min(rows.length, index + ROWS_PER_CHUNK);
      const parts: string[] = [];
      for (let i = index; i < end; i += 1) {
        const row = rows[i];
        if (mapRow) parts.push(JSON.stringify(mapRow(row, i)));
        else parts.push((jsonCache[i] ??= JSON.stringify(row)));
      }
      const text = `${index === 0 ? '[' : ','}${parts.join(',')}`;
      index = end;
      if (!response.write(text)) return void response.once('drain', writeMore);
    }
    response.end(index === 0 ? '[]' : ']');
  };
  response.on('close', () => (index = rows.length + 1));
  writeMore();
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function toMs(value: Date | string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`Not a date: ${String(value)}`);
  return ms;
}
