// Serverless Framework v3 reads this file. Options come from the command line, e.g.
//   npx serverless deploy --stage prod --region eu-west-2 --param="redshiftWorkgroup=analytics"
// The service is built by src/service-config.ts (typed against the functions' environment contract); ts-node
// compiles it on the fly, without type checks (`nx typecheck` does those).
require('ts-node').register({
  transpileOnly: true,
  skipProject: true,
  compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true },
});
const { buildServiceConfig, optionsFromArgv } = require('./src/service-config.ts');

module.exports = buildServiceConfig(optionsFromArgv(process.argv.slice(2)));
