// `@org/plutus-client/internal`: helpers the Plutus sandbox and this repository's tests share with the client
// (TOTP codes, JWT expiry, the schema checks, the GraphQL query text). Not part of the documented API: no
// compatibility promise, and an application should never need them.
export { assertSafeHost } from './client';
export { maskEmail, type LoginBody, type LoginAttempt } from './token-provider';
export { totpCode, decodeBase32 } from './totp';
export { jwtExpiryMs } from './jwt-expiry';
export { findSchemaMismatch, assertMatchesSchema, type PlutusSchemaName } from './response-validation';
export { TRANSACTIONS_VIEW_QUERY } from './transactions-query';
export { plutusSchemaDocument, plutusOpenApiVersion } from './generated/plutus-schemas';
