export {
  createPlutusClient,
  assertSafeHost,
  PLUTUS_HOSTS,
  type PlutusAuth,
  type PlutusClient,
  type PlutusClientOptions,
  type PlutusHosts,
  type Reward,
  type Transaction,
  type TransactionsPage,
  type TransactionsQuery,
  type RewardsQuery,
  type InvalidRow,
} from './client';
export {
  PlutusError,
  PlutusAuthError,
  PlutusRateLimitError,
  PlutusServerError,
  PlutusNetworkError,
  PlutusTimeoutError,
  PlutusSchemaError,
  PlutusGraphQLError,
} from './errors';
export {
  cachingTokenProvider,
  passwordTotpTokenProvider,
  staticTokenProvider,
  maskEmail,
  type TokenProvider,
  type PasswordTotpCredentials,
  type LoginBody,
  type LoginAttempt,
} from './token-provider';
export { totpCode, decodeBase32 } from './totp';
export { jwtExpiryMs } from './jwt-expiry';
export { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
export { silentLogger, type PlutusLogger } from './logger';
export { findSchemaMismatch, assertMatchesSchema, type PlutusSchemaName } from './response-validation';
export { TRANSACTIONS_VIEW_QUERY } from './transactions-query';
export { CLIENT_VERSION } from './version';
export type { components, paths, operations } from './generated/plutus-api';
export { plutusSchemaDocument, plutusOpenApiVersion } from './generated/plutus-schemas';
