// `@org/rewards-transform/internal`: the engine's parts, for this repository's tests and benchmarks. Not part
// of the documented API: no compatibility promise.
export { rejectsToCsv } from './transform-run';
export { cleanRaw, type FieldRule, type FastShape, type RejectedRow, type CleaningResult } from './raw-cleaning';
export { cleanRawCsv, type RawCsvCleaningResult } from './raw-csv-reader';
export { dedupeLatest, type DedupeResult } from './dedupe';
export { KeyIndex, type KeyLookup } from './key-index';
export { rebateRewardScaled } from './reward-facts';
export { tableToArrowIpc, IpcArena } from './arrow-ipc';
export { nullRates, countReasons } from './quality-report';
export { takeRows, concatTables, rowAt, tableRows } from './table';
export { scaledDecimal, instant, integer, boolean, currency, text, isProblem, type Problem } from './values';
export { parquetToTable } from './parquet-input';
export { reserveWasmMemory } from './parquet-output';
