import { createHmac, timingSafeEqual } from 'node:crypto';

/** HS256 JWTs, enough for a sandbox to issue tokens with an expiry and check them. */
export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  return `${header}.${body}.${signature(`${header}.${body}`, secret)}`;
}

export type JwtCheck = { valid: true; payload: Record<string, unknown> } | { valid: false; reason: 'malformed' | 'signature' | 'expired' };

export function verifyJwt(token: string, secret: string, nowMs: number): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed' };
  const expected = Buffer.from(signature(`${parts[0]}.${parts[1]}`, secret));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { valid: false, reason: 'signature' };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (typeof payload['exp'] === 'number' && payload['exp'] * 1000 <= nowMs) return { valid: false, reason: 'expired' };
  return { valid: true, payload };
}

function signature(input: string, secret: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
