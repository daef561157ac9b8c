module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/plutus-client',
  rootDir: __dirname,
};
