// Serverless Framework v3 reads this file. Options come from the command line, e.g.
//   npx serverless deploy --stage prod --region eu-west-2 --param="redshiftWorkgroup=analytics"
const { buildServiceConfig, optionsFromArgv } = require('./service-config');

module.exports = buildServiceConfig(optionsFromArgv(process.argv.slice(2)));
