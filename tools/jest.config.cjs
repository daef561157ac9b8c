module.exports = {
  ...require('../jest.preset.js'),
  displayName: '@org/tools',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/ci/**/*.spec.ts'],
};
