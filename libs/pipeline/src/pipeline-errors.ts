/** Base of the pipeline's errors. `name` is what the state machine's Retry and Catch match on. */
export class PipelineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Worth retrying: the source or a service failed for a moment (rate limits, 5xx, timeouts). */
export class TransientError extends PipelineError {}

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
export class WarehouseLostError extends PipelineError {}

/**
 * The warehouse is still busy with an earlier load of this pipeline (a Redshift batch outliving the Lambda that
 * sent it). Retried for longer than a TransientError: every minute for 20 minutes, longer than any Lambda lives.
 */
export class WarehouseInUseError extends PipelineError {}

/** Names of errors the state machine retries; everything else fails the run at once. */
export const TRANSIENT_ERROR_NAMES = ['TransientError'] as const;
