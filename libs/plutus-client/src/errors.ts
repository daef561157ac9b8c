/**
 * Every error this library throws is a PlutusError. Messages say what failed and what to do; they never carry
 * a token, a password, a TOTP secret or a request's headers.
 */
/** The stable machine-readable codes of `PlutusError`: a `switch` over them is checked by the compiler. */
export type PlutusErrorCode =
  | 'PLUTUS_AUTH'
  | 'PLUTUS_CONFIG'
  | 'PLUTUS_GRAPHQL'
  | 'PLUTUS_NETWORK'
  | 'PLUTUS_RATE_LIMIT'
  | 'PLUTUS_SCHEMA'
  | 'PLUTUS_SERVER'
  | 'PLUTUS_TIMEOUT';

export class PlutusError extends Error {
  /** Stable machine-readable code, e.g. `PLUTUS_AUTH`. */
  readonly code: PlutusErrorCode;
  /** Whether retrying the same call later may succeed. */
  readonly transient: boolean;

  constructor(code: PlutusErrorCode, message: string, options: { transient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.transient = options.transient ?? false;
  }
}

/** Sign-in failed, or the service rejected the token even after one refresh. Not transient: fix credentials. */
export class PlutusAuthError extends PlutusError {
  readonly status?: number;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('PLUTUS_AUTH', message, { transient: false, cause: options.cause });
    this.status = options.status;
  }
}

/** The service kept answering 429 after every retry. */
export class PlutusRateLimitError extends PlutusError {
  /** Seconds the service last asked us to wait, when it said. */
  readonly retryAfterSeconds?: number;
  readonly attempts: number;
  constructor(message: string, options: { retryAfterSeconds?: number; attempts: number }) {
    super('PLUTUS_RATE_LIMIT', message, { transient: true });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.attempts = options.attempts;
  }
}

/** The service answered 5xx (after retries) or another unexpected status. */
export class PlutusServerError extends PlutusError {
  readonly status: number;
  readonly attempts: number;
  constructor(message: string, options: { status: number; attempts: number }) {
    super('PLUTUS_SERVER', message, { transient: options.status >= 500 });
    this.status = options.status;
    this.attempts = options.attempts;
  }
}

/** The connection failed or the body was not JSON (after retries). */
export class PlutusNetworkError extends PlutusError {
  readonly attempts: number;
  constructor(message: string, options: { attempts: number; cause?: unknown }) {
    super('PLUTUS_NETWORK', message, { transient: true, cause: options.cause });
    this.attempts = options.attempts;
  }
}

/** A request took longer than the per-request timeout on every attempt. */
export class PlutusTimeoutError extends PlutusError {
  readonly timeoutMs: number;
  readonly attempts: number;
  constructor(message: string, options: { timeoutMs: number; attempts: number }) {
    super('PLUTUS_TIMEOUT', message, { transient: true });
    this.timeoutMs = options.timeoutMs;
    this.attempts = options.attempts;
  }
}

/** A response did not match the OpenAPI document. Names the field path and the offending value. */
export class PlutusSchemaError extends PlutusError {
  /** JSON pointer into the response body, e.g. `/3/amount`. */
  readonly path: string;
  readonly value: unknown;
  readonly schema: string;
  constructor(options: { schema: string; path: string; value: unknown; problem: string }) {
    super(
      'PLUTUS_SCHEMA',
      `Response does not match the ${options.schema} schema at ${options.path || '/'}: ${options.problem} ` +
        `(got ${describeValue(options.value)}). The API may have changed; update openapi/plutus.yaml if so.`,
      { transient: false },
    );
    this.path = options.path;
    this.value = options.value;
    this.schema = options.schema;
  }
}

/** Hasura answered an `errors` array (with HTTP 200) for a reason other than an expired token. */
export class PlutusGraphQLError extends PlutusError {
  readonly graphqlCode?: string;
  constructor(message: string, graphqlCode?: string) {
    super('PLUTUS_GRAPHQL', message, { transient: false });
    this.graphqlCode = graphqlCode;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
