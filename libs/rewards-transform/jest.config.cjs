module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/rewards-transform',
  rootDir: __dirname,
};
