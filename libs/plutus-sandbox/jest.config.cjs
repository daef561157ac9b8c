module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/plutus-sandbox',
  rootDir: __dirname,
};
