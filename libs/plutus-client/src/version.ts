// Kept in step with package.json by a test (version.spec.ts), so the User-Agent never lies.
export const CLIENT_VERSION = '0.1.0';
