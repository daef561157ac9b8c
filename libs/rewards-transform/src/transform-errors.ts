/**
 * Base of this library's errors, in the project's shared vocabulary (the same fields as `@org/pipeline`'s
 * errors and `@org/plutus-client`'s): a stable `code`, `transient` (never, here: the same input fails the same
 * way), an actionable message, and the `cause` chained. The library depends on no other package of the
 * project, so it carries the fields rather than a base class.
 */
export class TransformError extends Error {
  readonly code: string;
  readonly transient = false;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** A raw file that cannot be transformed at all (as opposed to single bad rows, which are quarantined). */
export class RawInputError extends TransformError {
  readonly dataset: string;
  constructor(dataset: string, message: string, options?: { cause?: unknown }) {
    super('RAW_INPUT', `${dataset}: ${message}`, options);
    this.dataset = dataset;
  }
}

/** Data handed to the engine breaks an invariant of the curated schema (a missing or mistyped column). */
export class SchemaInvariantError extends TransformError {
  constructor(message: string) {
    super('SCHEMA_INVARIANT', message);
  }
}
