export { FileObjectStore } from './file-object-store';
export { DuckDbDatabase, DuckDbWarehouse, DuckDbCatalog } from './duckdb-warehouse';
