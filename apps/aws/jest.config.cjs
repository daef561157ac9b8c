module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/aws',
  rootDir: __dirname,
};
