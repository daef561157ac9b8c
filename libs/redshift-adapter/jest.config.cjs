module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/redshift-adapter',
  rootDir: __dirname,
};
