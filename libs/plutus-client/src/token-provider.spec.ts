import { PlutusAuthError } from './errors';
import { jwtExpiryMs } from './jwt-expiry';
import { cachingTokenProvider, maskEmail, passwordTotpTokenProvider, staticTokenProvider } from './token-provider';
import { totpCode } from './totp';
import { assertSafeHost } from './client';

const jwtWithExp = (expSeconds: number) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: expSeconds })).toString('base64url')}.sig`;

describe('jwtExpiryMs', () => {
  it('reads exp, and nothing from a non-JWT', () => {
    expect(jwtExpiryMs(jwtWithExp(100))).toBe(100_000);
    expect(jwtExpiryMs('opaque-token')).toBeUndefined();
    expect(jwtExpiryMs('a.b.c')).toBeUndefined();
  });
});

describe('cachingTokenProvider', () => {
  it('shares one sign-in between concurrent callers and reuses it until shortly before exp', async () => {
    let clock = 0;
    let signIns = 0;
    const provider = cachingTokenProvider(
      async () => {
        signIns += 1;
        return jwtWithExp(clock / 1000 + 3600);
      },
      { now: () => clock, refreshSkewMs: 60_000 },
    );
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
    expect(a).toBe(b);
    expect(signIns).toBe(1);
    clock = 3_500_000;
    await provider.getToken();
    expect(signIns).toBe(1);
    clock = 3_550_000; // inside the skew before exp
    await provider.getToken();
    expect(signIns).toBe(2);
  });

  it('signs in again after invalidate()', async () => {
    let signIns = 0;
    const provider = cachingTokenProvider(async () => `token-${++signIns}`);
    expect(await provider.getToken()).toBe('token-1');
    expect(provider.invalidate()).toBe(true);
    expect(await provider.getToken()).toBe('token-2');
  });
});

describe('staticTokenProvider', () => {
  it('cannot renew, and says what to do once rejected', async () => {
    const provider = staticTokenProvider('copied-token');
    expect(await provider.getToken()).toBe('copied-token');
    expect(provider.invalidate()).toBe(false);
    await expect(provider.getToken()).rejects.toThrow(/copy a fresh one/);
  });

  it('refuses a missing token (an unset environment variable) or one pasted across lines, as an auth error, not a TypeError', () => {
    expect(() => staticTokenProvider(undefined as unknown as string)).toThrow(PlutusAuthError);
    expect(() => staticTokenProvider(undefined as unknown as string)).toThrow(/No id_token was given \(undefined\)/);
    expect(() => staticTokenProvider('abc\ndef')).toThrow(/line break/);
  });
});

describe('passwordTotpTokenProvider', () => {
  const credentials = { email: 'jane@example.com', password: 'hunter2', totpSecret: 'JBSWY3DPEHPK3PXP' };

  it('refuses a TOTP secret that is not base32 at once, as an auth error (the first sign-in would fail like a network cut)', () => {
    const login = jest.fn();
    expect(() => passwordTotpTokenProvider({ ...credentials, totpSecret: 'not-base32-1890!' }, login)).toThrow(PlutusAuthError);
    expect(() => passwordTotpTokenProvider({ ...credentials, password: undefined as unknown as string }, login)).toThrow('No password');
    expect(login).not.toHaveBeenCalled();
  });

  it('retries a refused sign-in once with a fresh code', async () => {
    const codes: string[] = [];
    const provider = passwordTotpTokenProvider(
      credentials,
      async (body) => {
        codes.push(body.token);
        return codes.length === 1 ? { status: 400 } : { idToken: 'ok' };
      },
      { now: () => 1_000_000 },
    );
    expect(await provider.getToken()).toBe('ok');
    expect(codes).toHaveLength(2);
    expect(codes[0]).toBe(totpCode(credentials.totpSecret, 1_000_000));
    expect(codes[1]).toBe(totpCode(credentials.totpSecret, 1_030_000));
  });

  it('gives up after the second refusal with a masked account and no secret', async () => {
    const provider = passwordTotpTokenProvider(credentials, async () => ({ status: 401 }));
    const error = await provider.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlutusAuthError);
    const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`;
    expect(text).toContain('j***@example.com');
    for (const secret of [credentials.email, credentials.password, credentials.totpSecret]) expect(text).not.toContain(secret);
  });

  it('masks emails', () => {
    expect(maskEmail('someone@example.org')).toBe('s***@example.org');
    expect(maskEmail('not-an-email')).toBe('***');
  });
});

describe('assertSafeHost', () => {
  it('refuses a URL carrying a user name or password (fetch would refuse it on every retry), and plain http off this machine', () => {
    expect(() => assertSafeHost('https://me:pw@api.plutus.it')).toThrow(/carries a user name or password/);
    expect(() => assertSafeHost('https://me:pw@api.plutus.it')).not.toThrow(/pw/);
    expect(() => assertSafeHost('http://api.plutus.it')).toThrow(/Refusing to send credentials/);
    expect(() => assertSafeHost('https://api.plutus.it')).not.toThrow();
    expect(() => assertSafeHost('http://127.0.0.1:4010')).not.toThrow();
  });
});
