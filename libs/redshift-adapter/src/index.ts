export {
  RedshiftWarehouse,
  RedshiftStatementError,
  DataApiLimitError,
  DATA_API_LIMITS,
  type RedshiftTarget,
  type RedshiftWarehouseSettings,
  type RedshiftValue,
} from './redshift-warehouse';
