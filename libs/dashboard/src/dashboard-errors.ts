/** An error of this library: a stable code, never transient (a name it cannot write safely stays so). */
export class DashboardError extends Error {
  readonly transient = false;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A schema name that is not a plain identifier (the views would not be safe to create). */
export class ViewSchemaError extends DashboardError {
  constructor(message: string) {
    super('VIEW_SCHEMA', message);
  }
}

/** A connection or schema name the LookML generator cannot write safely. */
export class LookmlOptionError extends DashboardError {
  constructor(message: string) {
    super('LOOKML_OPTION', message);
  }
}
