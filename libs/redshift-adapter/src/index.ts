export { RedshiftWarehouse, RedshiftStatementError, type RedshiftTarget, type RedshiftWarehouseSettings, type RedshiftValue } from './redshift-warehouse';
