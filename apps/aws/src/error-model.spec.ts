import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LookmlOptionError, ViewSchemaError } from '@org/dashboard';
import { GlueCatalogError } from '@org/glue-adapter';
import {
  CursorUnreadableError,
  ExecutionStoppedError,
  isTransient,
  LockUnreadableError,
  ObjectNotFoundError,
  PipelineError,
  RunLockedError,
  RunRequestError,
  StepOrderError,
  TRANSIENT_ERROR_NAMES,
  TransientError,
  WarehouseInUseError,
  WarehouseLostError,
} from '@org/pipeline';
import {
  PlutusAuthError,
  PlutusNetworkError,
  PlutusRateLimitError,
  PlutusSchemaError,
  PlutusServerError,
  PlutusTimeoutError,
} from '@org/plutus-client';
import { SandboxDatasetError } from '@org/plutus-sandbox';
import { RedshiftStatementError } from '@org/redshift-adapter';
import { CsvFormatError, RawInputError, SchemaInvariantError } from '@org/rewards-transform';
import { S3AccessDeniedError } from '@org/s3-adapter';
import { AwsConfigError } from './aws-config';
import { SandboxConfigError } from './handlers/plutus-sandbox';
import { ServiceConfigError } from './service-config';

// One error model across the project: every error a package exports speaks the same vocabulary, and the
// pipeline README's table lists each of them with who raises it and whether the state machine retries it.
const cause = new Error('underlying');
const errors: Error[] = [
  new PipelineError('x', { cause }),
  new TransientError('x', { cause }),
  new StepOrderError('x'),
  new RunLockedError('x'),
  new CursorUnreadableError('x'),
  new LockUnreadableError('x'),
  new ObjectNotFoundError('runs/r/manifest.json'),
  new RunRequestError('x'),
  new ExecutionStoppedError('x'),
  new WarehouseLostError('x'),
  new WarehouseInUseError('x'),
  new S3AccessDeniedError('bucket', 'key', 'read'),
  new GlueCatalogError('x'),
  new RedshiftStatementError('id', 'SELECT 1', 'boom'),
  new PlutusAuthError('x', { status: 401 }),
  new PlutusRateLimitError('x', { attempts: 3 }),
  new PlutusServerError('x', { status: 503, attempts: 3 }),
  new PlutusNetworkError('x', { attempts: 3, cause }),
  new PlutusTimeoutError('x', { timeoutMs: 1000, attempts: 3 }),
  new PlutusSchemaError({ schema: 'Reward', path: '/id', value: 1, problem: 'must be string' }),
  new RawInputError('rewards', 'x', { cause }),
  new CsvFormatError('x'),
  new SchemaInvariantError('x'),
  new SandboxDatasetError('x'),
  new ViewSchemaError('x'),
  new LookmlOptionError('x'),
  new AwsConfigError('x'),
  new SandboxConfigError('x'),
  new ServiceConfigError('x'),
];

describe('one error model', () => {
  it.each(errors.map((error) => [error.name, error]))('%s has a name, a stable code, transient or not, and a message', (_, error) => {
    const vocabulary = error as Error & { code?: unknown; transient?: unknown };
    expect(vocabulary.name).toBe(error.constructor.name);
    expect(vocabulary.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(typeof vocabulary.transient).toBe('boolean');
    expect(vocabulary.message.length).toBeGreaterThan(0);
  });

  it('chains the cause', () => {
    for (const error of errors.filter((candidate) => 'cause' in candidate && candidate.cause !== undefined))
      expect(error.cause).toBe(cause);
    expect(new TransientError('x', { cause }).cause).toBe(cause);
  });

  it('says transient exactly for what is worth retrying, and the core reads that without importing the classes', () => {
    const transient = errors
      .filter(isTransient)
      .map((error) => error.name)
      .sort();
    expect(transient).toEqual(['PlutusNetworkError', 'PlutusRateLimitError', 'PlutusServerError', 'PlutusTimeoutError', 'TransientError']);
    // What the state machine retries by name: the pipeline's own transient error, and WarehouseInUseError
    // (its own long schedule); the client's transient errors reach it as TransientError (extract translates).
    expect([...TRANSIENT_ERROR_NAMES]).toEqual(['TransientError']);
  });

  it('lists every error in the table of libs/pipeline/README.md: who raises it, retried or not', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'libs', 'pipeline', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Errors'));
    for (const error of errors)
      expect({ error: error.name, listed: table.includes(`\`${error.name}\``) }).toEqual({ error: error.name, listed: true });
  });
});
