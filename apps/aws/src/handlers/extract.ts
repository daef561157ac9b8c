import { extractStep } from '@org/pipeline';
import { lambdaStep } from '../lambda-step';
import { plutusSourcePort } from '../plutus-source';
import { redshiftWarehousePort } from '../redshift-warehouse-port';

// The warehouse only for the source check: its count of transactions before the run's window.
export const handler = lambdaStep('Extract', extractStep, async (config, clients, store, tracing) => ({
  ...(await plutusSourcePort(config, clients, store, tracing)),
  ...(await redshiftWarehousePort(config, clients, store, tracing)),
}));
