// Shared Jest settings for every project. Each project's jest.config.cjs spreads this.
// TypeScript is transpiled only (type errors are the `typecheck` target's job), which keeps test runs fast.
// The "@org/source" export condition makes workspace packages resolve to their TypeScript sources,
// so tests never depend on a prior build.
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: {
    customExportConditions: ['@org/source', 'node', 'require', 'default'],
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  coverageReporters: ['text-summary', 'html'],
};
