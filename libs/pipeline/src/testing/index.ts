// `@org/pipeline/testing`: what every warehouse adapter's tests check their load plan against.
export {
  LOAD_SEQUENCE,
  expectedWarehouse,
  expectedMonthFigures,
  expectedWarehouseParquet,
  tableDifferencesSql,
  type RawLoad,
} from './warehouse-conformance';
