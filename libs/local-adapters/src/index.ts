export { FileObjectStore } from './file-object-store';
export { DuckDbDatabase, DuckDbWarehouse, DuckDbCatalog, type DuckDbOptions } from './duckdb-warehouse';
