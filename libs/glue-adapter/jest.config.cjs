module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/glue-adapter',
  rootDir: __dirname,
};
