export type { ObjectStore, Catalog, Warehouse, RunLoad, LoadResult, PartitionRef, RewardsSource } from './ports';
export {
  PipelineError,
  TransientError,
  StepOrderError,
  isTransient,
  codeOfName,
  type ErrorVocabulary,
  RunLockedError,
  ObjectNotFoundError,
  RunRequestError,
  WarehouseLostError,
  WarehouseInUseError,
  ExecutionStoppedError,
  LockUnreadableError,
  CursorUnreadableError,
  TRANSIENT_ERROR_NAMES,
} from './pipeline-errors';
export type { PipelineContext, RunRef, RunRequest, ExecutionRequest, RunPlan, ProgressEvent } from './pipeline-context';
export { objectLayout, newRunId, runIdOfKey } from './object-layout';
export { readManifest, writeManifest, partsOf, type RunManifest, type StepName, type StepRecord } from './run-manifest';
export { DEFAULT_PART_ROWS } from './steps/raw-part-writer';
export {
  readCursor,
  writeCursor,
  acquireRunLock,
  releaseRunLock,
  readLock,
  lockState,
  laterOf,
  EMPTY_CURSOR,
  STALE_LOCK_MS,
  type Cursor,
  type LockBody,
  type LockOwner,
} from './cursor-state';
export { extractStep, type ExtractContext } from './steps/extract-step';
export { transformStep } from './steps/transform-step';
export { catalogStep } from './steps/catalog-step';
export { loadStep } from './steps/load-step';
export { STATE_MACHINE_LIMITS } from './service-limits';
export { planStep, planRun, monthChunks, calendarDate } from './steps/plan-step';
export { rebuildStep, loadedRuns, type LoadedRun } from './steps/rebuild-step';
export { commitStep, recordFailureStep, type FailureInput } from './steps/commit-step';
export {
  buildStateMachineDefinition,
  pipelineTaskHandlers,
  PIPELINE_TASKS,
  ALL_TASKS,
  CHUNK_STATE_PREFIX,
  taskOfState,
  localTaskHandlers,
  type PipelineTask,
  type StateMachineResources,
  type StateMachineOptions,
} from './state-machine';
export {
  addMissingColumnsSql,
  addMissingProbeHashesSql,
  insertRowsSql,
  probeHashColumn,
  PROBED_COLUMNS,
  presentColumnsSql,
  createTableSql,
  mergeStatements,
  runLoadStatements,
  tableCountsSql,
  quoteIdentifier,
  quoteLiteral,
  columnType,
  VERSION_COLUMNS,
  type SqlDialect,
  type StagingTables,
} from './warehouse-sql';
