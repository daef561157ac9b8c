module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/pipeline',
  rootDir: __dirname,
};
