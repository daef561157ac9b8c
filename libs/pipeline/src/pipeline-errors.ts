/**
 * The project's one error vocabulary. Every error a package throws on purpose has a `name` (its class: what the
 * state machine's Retry and Catch match), a stable `code`, whether trying again later may succeed
 * (`transient`), an actionable message, and the error it came from as `cause`. Packages that cannot depend on
 * this one (the Plutus client, the transformation rules) carry the same fields; `isTransient` reads any of them
 * without importing their classes.
 */
export interface ErrorVocabulary {
  readonly name: string;
  readonly code: string;
  readonly transient: boolean;
  readonly message: string;
  readonly cause?: unknown;
}

/** True when an error says trying again later may succeed (any package's, by the shared `transient` field). */
export function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { transient?: unknown }).transient === true;
}

/** `RunLockedError` → `RUN_LOCKED`: a code as stable as the class name the state machine already depends on. */
export function codeOfName(name: string): string {
  return name
    .replace(/Error$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
}

/** Base of the pipeline's errors. `name` is what the state machine's Retry and Catch match on. */
export class PipelineError extends Error implements ErrorVocabulary {
  readonly code: string;
  readonly transient: boolean;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? codeOfName(new.target.name);
    this.transient = this instanceof TransientError;
  }
}

/** Worth retrying: the source or a service failed for a moment (rate limits, 5xx, timeouts). */
export class TransientError extends PipelineError {}

/** A step ran before the one whose output it needs (a hand-started step, a broken state machine). */
export class StepOrderError extends PipelineError {}

/** Another run holds the lock on this store. */
export class RunLockedError extends PipelineError {}

/** state/cursor.json exists but is not a cursor: never guessed at. */
export class CursorUnreadableError extends PipelineError {}

/** The lock file exists but is not a lock (garbage, truncated): never taken as free. */
export class LockUnreadableError extends PipelineError {}

/** An object the step needs is not in the store. */
export class ObjectNotFoundError extends PipelineError {
  readonly key: string;
  constructor(key: string) {
    super(`No object at ${key}.`);
    this.key = key;
  }
}

/** The execution's input is not a run the pipeline can do (bad mode, run id or dates). Never retried. */
export class RunRequestError extends PipelineError {}

/** A run of an execution that had already failed, not started (the local engine's Map goes on otherwise). */
export class ExecutionStoppedError extends PipelineError {}

/** The warehouse lost rows that committed runs had loaded (deleted, or a new database): rebuild it from the lake. */
/**
 * A rebuild found no committed run to replay while the warehouse or the cursor says rows were loaded (the runs'
 * manifests moved, or the store is another one): replaying nothing would empty the warehouse.
 */
export class RebuildRefusedError extends PipelineError {}

export class WarehouseLostError extends PipelineError {}

/** The warehouse disagrees with the lake in a way no repair closes safely (rows changed by hand, another store's runs). */
export class WarehouseDisagreesError extends PipelineError {}

/** A committed run could not be loaded again into a warehouse that lacked it (its objects gone from the lake, say). */
export class ReplayFailedError extends PipelineError {}

/**
 * The run's rows name an account (the cardholder's `user_id`) the lake and the warehouse have never held rows of:
 * two cardholders' rows in one warehouse would be added together. Refused before anything is landed for good,
 * unless the run says `allowSourceChange`.
 */
export class SourceChangedError extends PipelineError {}

/** `{"mode": "verify"}` found a difference: the execution fails, for the alarm; the run's manifest holds the report. */
export class VerificationFailedError extends PipelineError {}

/** A manifest under runs/ that is not JSON: never guessed at, named. */
export class ManifestUnreadableError extends PipelineError {}

/**
 * The warehouse is still busy with an earlier load of this pipeline (a Redshift batch outliving the Lambda that
 * sent it). Retried for longer than a TransientError: every minute for 20 minutes, longer than any Lambda lives.
 */
export class WarehouseInUseError extends PipelineError {}

/** Names of errors the state machine retries; everything else fails the run at once. */
export const TRANSIENT_ERROR_NAMES = ['TransientError'] as const;
