// `@org/rewards-transform/internal`: the engine's parts, for this repository's tests and benchmarks. Not part
// of the documented API: no compatibility promise.
export { rejectsToCsv } from './transform-run';
export { cleanRaw, type FieldRule, type FastShape, type RejectedRow, type CleaningResult } from './rules/raw-cleaning';
export { cleanRawCsv, type RawCsvCleaningResult } from './engine/raw-csv-reader';
export { dedupeLatest, type DedupeResult } from './rules/dedupe';
export { KeyIndex, type KeyLookup } from './engine/key-index';
export { rebateRewardScaled } from './rules/reward-facts';
export { tableToArrowIpc, IpcArena } from './engine/arrow-ipc';
export { nullRates, countReasons } from './rules/quality-report';
export { takeRows, concatTables, rowAt, tableRows } from './engine/table';
export { scaledDecimal, instant, integer, boolean, currency, text, isProblem, type Problem } from './rules/values';
export { parquetToTable } from './engine/parquet-input';
export { reserveWasmMemory } from './engine/parquet-output';
