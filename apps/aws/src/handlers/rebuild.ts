import { rebuildStep } from '@org/pipeline';
import { glueCatalogPort } from '../glue-catalog-port';
import { lambdaStep } from '../lambda-step';
import { redshiftWarehousePort } from '../redshift-warehouse-port';

export const handler = lambdaStep('Rebuild', rebuildStep, async (config, clients, store, tracing) => ({
  ...(await redshiftWarehousePort(config, clients, store, tracing)),
  ...(await glueCatalogPort(config, clients, store, tracing)),
}));
