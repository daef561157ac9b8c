module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/local-runner',
  rootDir: __dirname,
};
