export { readAwsConfig, AwsConfigError, type AwsPipelineConfig } from './aws-config';
export {
  lambdaStep,
  buildTaskContext,
  noExtraPorts,
  sdkClientConfig,
  stepMetrics,
  taskObservability,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  type AwsClients,
  type ClientTracing,
  type ExtraPorts,
  type BaseContext,
  type TaskObservability,
} from './lambda-step';
export { plutusAuthFromSecret, plutusSourcePort } from './plutus-source';
export { glueCatalogPort } from './glue-catalog-port';
export { redshiftWarehousePort } from './redshift-warehouse-port';
