module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/sql-dialect',
  rootDir: __dirname,
};
