export {
  RedshiftWarehouse,
  RedshiftStatementError,
  DataApiLimitError,
  DATA_API_LIMITS,
  dataApiTargetParams,
  type RedshiftTarget,
  type RedshiftWarehouseSettings,
  type RedshiftValue,
} from './redshift-warehouse';
