export { FileObjectStore } from './file-object-store';
export {
  DuckDbDatabase,
  DuckDbWarehouse,
  DuckDbCatalog,
  WarehouseBusyError,
  loadMemoryLimitMb,
  type DuckDbOptions,
  type DuckDbWarehouseSettings,
} from './duckdb-warehouse';
export { STORE_SCHEMA, PROBED_COLUMNS, probeHashColumn } from './duckdb-load-plan';
export { DuckDbDeepVerifier } from './duckdb-deep-verifier';
