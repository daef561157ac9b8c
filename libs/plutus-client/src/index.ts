// The public surface: what README.md documents. Helpers the sandbox and this repository's tests share live in
// `@org/plutus-client/internal` (src/internal.ts), with no compatibility promise.
export {
  createPlutusClient,
  PLUTUS_HOSTS,
  type PlutusAuth,
  type PlutusClient,
  type PlutusClientOptions,
  type PlutusHosts,
  type Reward,
  type Transaction,
  type TransactionType,
  type TransactionsPage,
  type TransactionsQuery,
  type RewardsQuery,
  type InvalidRow,
} from './client';
export {
  PlutusError,
  type PlutusErrorCode,
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
  type TokenProvider,
  type PasswordTotpCredentials,
} from './token-provider';
export { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
export { silentLogger, type PlutusLogger } from './logger';
export { CLIENT_VERSION } from './version';
export type { components, paths, operations } from './generated/plutus-api';
