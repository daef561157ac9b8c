import { verifyStep } from '@org/pipeline';
import { glueCatalogPort } from '../glue-catalog-port';
import { lambdaStep } from '../lambda-step';
import { plutusSourcePort } from '../plutus-source';
import { redshiftWarehousePort } from '../redshift-warehouse-port';

export const handler = lambdaStep('Verify', verifyStep, async (config, clients, store, tracing) => ({
  ...(await redshiftWarehousePort(config, clients, store, tracing)),
  ...(await glueCatalogPort(config, clients, store, tracing)),
  ...(await plutusSourcePort(config, clients, store, tracing)),
}));
