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

/** An object the step needs is not in the store. */
export class ObjectNotFoundError extends PipelineError {
  readonly key: string;
  constructor(key: string) {
    super(`No object at ${key}.`);
    this.key = key;
  }
}

/** Names of errors the state machine retries; everything else fails the run at once. */
export const TRANSIENT_ERROR_NAMES = ['TransientError'] as const;
