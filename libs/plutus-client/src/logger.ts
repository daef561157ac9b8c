/** Where the client reports retries and refreshes. Fields never contain secrets. Silent by default. */
export interface PlutusLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: PlutusLogger = {
  debug: () => undefined,
  warn: () => undefined,
};
