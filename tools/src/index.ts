export { syntheticRawCsv, type SyntheticRawCsv } from './synthetic-raw-csv';
