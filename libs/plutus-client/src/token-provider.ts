import { PlutusAuthError } from './errors';
import { jwtExpiryMs } from './jwt-expiry';
import { decodeBase32, totpCode } from './totp';

/**
 * Supplies the bearer token for API calls. The client calls `getToken()` before each request and
 * `invalidate()` when the service rejects a token; `invalidate()` answers whether a new token can be had,
 * so the client knows whether to try once more or to give up with a PlutusAuthError.
 */
export interface TokenProvider {
  getToken(): Promise<string>;
  invalidate(): boolean;
}

/** A token the user copied from their own signed-in browser session. It cannot be renewed. */
export function staticTokenProvider(idToken: string): TokenProvider {
  if (typeof idToken !== 'string' || !idToken.trim())
    throw new PlutusAuthError(
      `No id_token was given (${idToken === undefined ? 'undefined' : 'empty'}): copy one from a signed-in Plutus session (e.g. into PLUTUS_ID_TOKEN).`,
    );
  // A header cannot carry a line break: fetch would fail every attempt as if the network had cut off.
  if (/\s/.test(idToken) || [...idToken].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
    throw new PlutusAuthError('The id_token contains a space, line break or control character: copy it again as one line.');
  let rejected = false;
  return {
    async getToken() {
      if (rejected) {
        throw new PlutusAuthError('The id_token was rejected (expired or revoked); copy a fresh one from a signed-in Plutus session.');
      }
      return idToken;
    },
    invalidate() {
      rejected = true;
      return false;
    },
  };
}

export interface CachingTokenProviderOptions {
  /** Stop reusing a token this long before its JWT `exp`. */
  refreshSkewMs?: number;
  now?: () => number;
}

/**
 * Caches what `signIn` returns until shortly before the JWT's `exp` (a token without `exp` is kept until
 * rejected). Concurrent callers share one sign-in.
 */
export function cachingTokenProvider(signIn: () => Promise<string>, options: CachingTokenProviderOptions = {}): TokenProvider {
  const refreshSkewMs = options.refreshSkewMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { token: string; validUntilMs: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    getToken() {
      if (cached && now() < cached.validUntilMs) return Promise.resolve(cached.token);
      pending ??= signIn()
        .then((token) => {
          const expiry = jwtExpiryMs(token);
          cached = { token, validUntilMs: expiry === undefined ? Number.POSITIVE_INFINITY : expiry - refreshSkewMs };
          return token;
        })
        .finally(() => {
          pending = undefined;
        });
      return pending;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}

export interface PasswordTotpCredentials {
  email: string;
  password: string;
  /** The base32 secret behind the cardholder's authenticator app (not a one-off code). */
  totpSecret: string;
  clientId?: string;
}

export interface LoginBody {
  email: string;
  password: string;
  token: string;
  client_id?: string;
  [extra: string]: unknown;
}

/** Outcome of one sign-in attempt: a token, or the status the service answered. Never throws for a 4xx. */
export type LoginAttempt = { idToken: string } | { status: number };

/**
 * Signs in with email, password and a TOTP code generated from the secret. A code can expire between its
 * generation and its use, so a refused sign-in is retried once with a fresh code (the next step's code when
 * the clock has not moved on), as the official web app's users do by hand. No captcha is solved or bypassed:
 * this works only where the service accepts the sign-in without one.
 */
export function passwordTotpTokenProvider(
  credentials: PasswordTotpCredentials,
  login: (body: LoginBody) => Promise<LoginAttempt>,
  options: CachingTokenProviderOptions & { totpStepSeconds?: number } = {},
): TokenProvider {
  const now = options.now ?? Date.now;
  const stepMs = (options.totpStepSeconds ?? 30) * 1000;
  for (const [name, value] of [
    ['email', credentials.email],
    ['password', credentials.password],
    ['totpSecret', credentials.totpSecret],
  ] as const) {
    if (typeof value !== 'string' || !value.trim()) throw new PlutusAuthError(`No ${name} was given for the Plutus sign-in.`);
  }
  // Checked now, not at the first sign-in, where the error would read like a network failure.
  try {
    decodeBase32(credentials.totpSecret);
  } catch {
    throw new PlutusAuthError(
      'The TOTP secret is not base32 (letters A-Z and digits 2-7, as an authenticator app shows it when set up): check PLUTUS_TOTP_SECRET.',
    );
  }
  const body = (code: string): LoginBody => ({
    email: credentials.email,
    password: credentials.password,
    token: code,
    ...(credentials.clientId ? { client_id: credentials.clientId } : {}),
  });
  return cachingTokenProvider(async () => {
    const firstCode = totpCode(credentials.totpSecret, now());
    const first = await login(body(firstCode));
    if ('idToken' in first) return first.idToken;
    let freshCode = totpCode(credentials.totpSecret, now());
    if (freshCode === firstCode) freshCode = totpCode(credentials.totpSecret, now() + stepMs);
    const second = await login(body(freshCode));
    if ('idToken' in second) return second.idToken;
    throw new PlutusAuthError(
      `Sign-in was refused twice (HTTP ${second.status}) for ${maskEmail(credentials.email)}; ` +
        'check the email, password and TOTP secret, and that the machine clock is right.',
      { status: second.status },
    );
  }, options);
}

/** `j***@example.com`: enough to tell accounts apart in a log, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
