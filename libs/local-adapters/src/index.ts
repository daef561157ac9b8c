export { FileObjectStore } from './file-object-store';
export {
  DuckDbDatabase,
  DuckDbWarehouse,
  DuckDbCatalog,
  WarehouseBusyError,
  loadMemoryLimitMb,
  type DuckDbOptions,
} from './duckdb-warehouse';
