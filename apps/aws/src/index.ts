export { readAwsConfig, AwsConfigError, type AwsPipelineConfig } from './aws-config';
export { lambdaStep, buildTaskContext, logLine, type AwsClients, type ExtraPorts } from './lambda-step';
export { plutusAuthFromSecret, plutusSourcePort } from './plutus-source';
export { glueCatalogPort } from './glue-catalog-port';
export { redshiftWarehousePort } from './redshift-warehouse-port';
