// The public surface: what README.md documents. What the adapters, the apps and the steps' own tests need, and
// nothing the steps use only among themselves.
export type {
  ObjectStore,
  Catalog,
  Warehouse,
  RunLoad,
  LoadResult,
  PartitionRef,
  RewardsSource,
  RewardMonthSummary,
  MonthFigures,
  StagedRebuild,
  PartTransformer,
  PartTransformOutput,
} from './ports';
export {
  PipelineError,
  TransientError,
  StepOrderError,
  isTransient,
  RunLockedError,
  ObjectNotFoundError,
  RunRequestError,
  WarehouseLostError,
  WarehouseDisagreesError,
  SourceChangedError,
  ReplayFailedError,
  VerificationFailedError,
  ManifestUnreadableError,
  RebuildRefusedError,
  WarehouseInUseError,
  ExecutionStoppedError,
  LockUnreadableError,
  CursorUnreadableError,
  TRANSIENT_ERROR_NAMES,
} from './pipeline-errors';
export type { PipelineContext, RunRef, RunRequest, ExecutionRequest, RunPlan, ProgressEvent } from './pipeline-context';
export { objectLayout, newRunId } from './object-layout';
export { LedgerSummary } from './source-check';
export { readManifest, type RunManifest, type StepName, type StepRecord } from './run-manifest';
export { readCursor, EMPTY_CURSOR, type Cursor } from './cursor-state';
export { readLock, lockState, type LockBody, type LockOwner } from './run-lock';
export { planStep, calendarDate } from './steps/plan-step';
export { extractStep, type ExtractContext } from './steps/extract-step';
export { transformStep, IN_PROCESS_PART_TRANSFORMER } from './steps/transform-step';
export { loadStep } from './steps/load-step';
export { catalogStep } from './steps/catalog-step';
export { commitStep, recordFailureStep, type FailureInput } from './steps/commit-step';
export { rebuildStep, REBUILD_RUNS_PER_TASK, type RebuildInput, type RebuildPlan, type RebuildContext } from './steps/rebuild-step';
export { verifyStep } from './steps/verify-step';
export {
  buildStateMachineDefinition,
  pipelineTaskHandlers,
  localTaskHandlers,
  PIPELINE_TASKS,
  ALL_TASKS,
  type PipelineTask,
  type StateMachineResources,
  type StateMachineOptions,
} from './state-machine';
export { STATE_MACHINE_LIMITS } from './service-limits';
export {
  createTableSql,
  addMissingColumnsSql,
  presentColumnsSql,
  tableCountsSql,
  qualifiedName,
  transactionIdsBetweenSql,
  summaryWithout,
  rewardIdsUpdatedBetweenSql,
  accountsSql,
  type CreateTableOptions,
} from './warehouse-schema';
export {
  LEDGER_TABLE,
  ledgerTableSql,
  ledgerSelectSql,
  ledgerRecordSql,
  ledgerAdoptSql,
  ledgerFactsCountSql,
  ledgerEntryOf,
  type LedgerEntry,
  type LedgerWrite,
} from './warehouse-ledger';
export {
  LEDGER_MONTHS_TABLE,
  MONTH_INSTANT,
  ledgerMonthsTableSql,
  ledgerMonthsSelectSql,
  ledgerMonthsUpdateSql,
  ledgerMonthsOf,
  monthFiguresScanSql,
  monthFiguresOf,
  monthFiguresBefore,
  monthFigureQueries,
  wholeEpochSecondsSql,
  type LedgerMonthsUpdate,
  type MonthFigureReads,
  type MonthFigureQueries,
} from './warehouse-months';
export { readLakeRuns, type LakeRuns, type LoadedRun } from './lake-runs';
export {
  verifyPipeline,
  type VerifyReport,
  type VerifyCheck,
  type DeepVerifier,
  type SourceMonthDifference,
  type AcceptedDifferences,
} from './verify';
export { SOURCE_CHECK_BOUNDS } from './source-check';
export { summarizeDataHealth, type DataHealth } from './data-health';
