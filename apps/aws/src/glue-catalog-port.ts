import { GlueClient } from '@aws-sdk/client-glue';
import { GlueCatalog } from '@org/glue-adapter';
import type { Catalog } from '@org/pipeline';
import type { ExtraPorts } from './lambda-step';

export const glueCatalogPort: ExtraPorts<{ catalog: Catalog }> = async (config, clients) => ({
  catalog: new GlueCatalog((clients['glue'] as GlueClient | undefined) ?? new GlueClient({ region: config.region }), {
    databaseName: config.glueDatabase,
    bucket: config.bucket,
    prefix: config.prefix,
  }),
});
