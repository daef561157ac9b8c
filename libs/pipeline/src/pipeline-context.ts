import type { LockOwner } from './run-lock';
import type { Catalog, ObjectStore, PartTransformer, RewardsSource, Warehouse } from './ports';

export type ProgressEvent =
  | { step: 'extract'; dataset: 'transactions'; fetched: number; total: number }
  | { step: 'extract'; dataset: 'rewards'; fetched: number }
  | { step: 'transform'; rowsIn: number; rowsOut: number }
  | { step: 'load'; dataset: string; rowsInTable: number }
  | { step: string; message: string };

/** What the steps run against: the ports, the clock and the settings. Built once by an app, passed down. */
export interface PipelineContext {
  store: ObjectStore;
  catalog: Catalog;
  warehouse: Warehouse;
  source: RewardsSource;
  now: () => Date;
  /** Re-pull this many days before the cursor, for late-arriving rows. Default 7. */
  lookbackDays: number;
  pageSize?: number;
  /** Rows per raw part (each part is transformed on its own). Default 100,000. */
  partRows?: number;
  concurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Where the rows come from, as the manifest records it (`sandbox (synthetic)`, `Plutus https://…`); never a credential. */
  sourceLabel?: string;
  /** This process as a lock holder (local runs): a lock left by a dead process on this host is taken over at once. */
  lockOwner?: LockOwner;
  /**
   * The most committed runs a load replays into a warehouse that lacks them (a restored backup) before loading its
   * own; beyond it the load is refused, naming rebuild. Unbounded by default; a Lambda sets what fits its 900 s.
   */
  maxReplaysPerLoad?: number;
  /**
   * The longest text the warehouse's text columns hold, in UTF-8 bytes (its dialect's `maxTextBytes`): the
   * transform quarantines longer values, which would otherwise fail the whole load. Unbounded when absent.
   */
  maxTextBytes?: number;
  /** Runs the rules on each raw part; by default in this process, one part at a time. */
  partTransformer?: PartTransformer;
}

/** What steps hand each other: a reference. Everything else is in the run's manifest. */
export interface RunRef {
  runId: string;
}

export interface RunRequest extends RunRef {
  mode: 'incremental' | 'backfill';
  /** Load rows of an account the lake and the warehouse have never held (a second cardholder): refused otherwise. */
  allowSourceChange?: boolean;
  /** backfill: the window of transaction dates (inclusive, YYYY-MM-DD). */
  from?: string;
  to?: string;
}

/** What starts an execution: the state machine's input. Scheduled executions give no run id. */
export interface ExecutionRequest {
  runId?: string;
  mode?: 'incremental' | 'backfill' | 'rebuild' | 'verify';
  from?: string;
  to?: string;
  /** rebuild: go on even when no committed run is found while the warehouse or the cursor says rows were loaded. */
  allowEmpty?: boolean;
  /** verify: acknowledge the lake-against-source differences it lists. */
  accept?: boolean;
  /** incremental, backfill: load rows of an account the lake and the warehouse have never held. */
  allowSourceChange?: boolean;
}

/** The Plan state's answer: the run, and for a backfill the month-sized chunks the Map state runs in order. */
export interface RunPlan {
  runId: string;
  mode: 'incremental' | 'backfill' | 'rebuild' | 'verify';
  from?: string;
  to?: string;
  allowEmpty?: boolean;
  accept?: boolean;
  allowSourceChange?: boolean;
  chunks?: RunRequest[];
  /** backfill: the months of the window that begin after the execution started (nothing can be dated there yet). */
  skippedAfterStart?: { months: number; from: string; to: string };
  /** backfill: the months of the window before the source's first transaction (`firstMonth`): nothing was there. */
  skippedBeforeSource?: { months: number; from: string; to: string; firstMonth: string };
}
