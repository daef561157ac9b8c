import { decodeBase32, totpCode } from './totp';

describe('totpCode', () => {
  // RFC 6238 appendix B, SHA-1 secret "12345678901234567890".
  const rfcSecret = Buffer.from('12345678901234567890', 'ascii');
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ])('matches the RFC 6238 vector at %i s', (seconds, expected) => {
    expect(totpCode(rfcSecret, seconds * 1000, { digits: 8 })).toBe(expected);
  });

  it('reads base32 secrets as authenticator apps show them', () => {
    expect(decodeBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')).toEqual(rfcSecret);
    expect(decodeBase32('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(rfcSecret);
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toBe('287082');
  });

  it('rejects a secret that is not base32 without echoing it', () => {
    expect(() => decodeBase32('NOT-BASE32-1!')).toThrow('TOTP secret is not valid base32');
    expect(() => decodeBase32('NOT-BASE32-1!')).not.toThrow(/NOT-BASE32/);
  });
});
