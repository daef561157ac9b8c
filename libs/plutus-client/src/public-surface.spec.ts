import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from './index';
import * as internal from './internal';

// The package's surface is what its README documents: the main entry exports exactly these, and the helpers
// the sandbox and the tests share sit behind `@org/plutus-client/internal`.
const DOCUMENTED = [
  'CLIENT_VERSION',
  'PLUTUS_HOSTS',
  'PlutusAuthError',
  'PlutusError',
  'PlutusGraphQLError',
  'PlutusNetworkError',
  'PlutusRateLimitError',
  'PlutusSchemaError',
  'PlutusServerError',
  'PlutusTimeoutError',
  'cachingTokenProvider',
  'createPlutusClient',
  'defaultRetryPolicy',
  'passwordTotpTokenProvider',
  'silentLogger',
  'staticTokenProvider',
];

describe('public surface', () => {
  const root = join(__dirname, '..');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

  it('the main entry exports exactly what the README documents', () => {
    expect(Object.keys(api).sort()).toEqual(DOCUMENTED);
    for (const name of DOCUMENTED)
      expect({ name, documented: new RegExp(`\x60${name}[\x60(]`).test(readme) }).toEqual({ name, documented: true });
  });

  it('keeps the shared helpers out of it, behind ./internal, which the README names as having no promise', () => {
    for (const name of [
      'totpCode',
      'decodeBase32',
      'jwtExpiryMs',
      'findSchemaMismatch',
      'assertMatchesSchema',
      'TRANSACTIONS_VIEW_QUERY',
      'maskEmail',
      'assertSafeHost',
    ]) {
      expect(name in api).toBe(false);
      expect(name in internal).toBe(true);
    }
    expect(Object.keys(manifest.exports)).toEqual(['.', './internal', './openapi/plutus.yaml', './package.json']);
    expect(readme).toContain('`@org/plutus-client/internal`');
  });
});
