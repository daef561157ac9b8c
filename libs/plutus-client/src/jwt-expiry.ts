/**
 * Reads the `exp` claim (seconds since the epoch) of a JWT without verifying it: the client only needs to know
 * when to stop reusing a token; the service does the verifying. Undefined when the token is not a JWT.
 */
export function jwtExpiryMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
