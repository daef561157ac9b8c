import { loadStep } from '@org/pipeline';
import { glueCatalogPort } from '../glue-catalog-port';
import { lambdaStep } from '../lambda-step';
import { redshiftWarehousePort } from '../redshift-warehouse-port';

/**
 * The most committed runs one Load replays into a warehouse that lacks them (a restored snapshot) before its own:
 * each is a batch of its own, and all must fit the Lambda's 900 s. More than that is refused, naming rebuild,
 * which replays them as a Map.
 */
export const MAX_REPLAYS_PER_LOAD = 10;

export const handler = lambdaStep('Load', loadStep, async (config, clients, store, tracing) => ({
  ...(await redshiftWarehousePort(config, clients, store, tracing)),
  // Replayed runs' partitions are registered again (the catalog restored with the warehouse may lack them).
  ...(await glueCatalogPort(config, clients, store, tracing)),
  maxReplaysPerLoad: MAX_REPLAYS_PER_LOAD,
}));
