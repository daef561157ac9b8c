module.exports = {
  ...require('../../jest.preset.js'),
  displayName: '@org/s3-adapter',
  rootDir: __dirname,
};
