module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/dashboard',
  rootDir: __dirname,
};
