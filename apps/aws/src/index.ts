export { readAwsConfig, AwsConfigError, type AwsPipelineConfig } from './aws-config';
export { lambdaStep, buildTaskContext, noExtraPorts, logLine, type AwsClients, type ExtraPorts, type BaseContext } from './lambda-step';
export { plutusAuthFromSecret, plutusSourcePort } from './plutus-source';
export { glueCatalogPort } from './glue-catalog-port';
export { redshiftWarehousePort } from './redshift-warehouse-port';
