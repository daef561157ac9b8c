export { GlueCatalog, GlueCatalogError, glueType, type GlueCatalogSettings } from './glue-catalog';
