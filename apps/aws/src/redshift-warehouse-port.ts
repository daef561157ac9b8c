import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { RedshiftWarehouse } from '@org/redshift-adapter';
import type { Warehouse } from '@org/pipeline';
import { sdkClientConfig, type ExtraPorts } from './lambda-step';

export const redshiftWarehousePort: ExtraPorts<{ warehouse: Warehouse }> = async (config, clients, store, tracing) => ({
  warehouse: new RedshiftWarehouse(
    tracing.traced((clients['redshiftData'] as RedshiftDataClient | undefined) ?? new RedshiftDataClient(sdkClientConfig(config))),
    {
      target: config.redshift.target,
      schema: config.redshift.schema,
      iamRoleArn: config.redshift.copyRoleArn,
      readers: config.redshift.readers,
      locate: (key) => store.locate(key),
    },
  ),
});
