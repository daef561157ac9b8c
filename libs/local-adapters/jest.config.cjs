module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/local-adapters',
  rootDir: __dirname,
};
