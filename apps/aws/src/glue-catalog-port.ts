import { GlueClient } from '@aws-sdk/client-glue';
import { GlueCatalog } from '@org/glue-adapter';
import type { Catalog } from '@org/pipeline';
import { sdkClientConfig, type ExtraPorts } from './lambda-step';

export const glueCatalogPort: ExtraPorts<{ catalog: Catalog }> = async (config, clients, _store, tracing) => ({
  catalog: new GlueCatalog(tracing.traced((clients['glue'] as GlueClient | undefined) ?? new GlueClient(sdkClientConfig(config))), {
    databaseName: config.glueDatabase,
    bucket: config.bucket,
    prefix: config.prefix,
  }),
});
