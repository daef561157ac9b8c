import { S3Client } from '@aws-sdk/client-s3';
import type { PipelineContext, PipelineTask } from '@org/pipeline';
import { S3ObjectStore } from '@org/s3-adapter';
import { readAwsConfig, type AwsPipelineConfig } from './aws-config';

/** SDK clients a test (or a caller with custom settings) may hand in; defaults are built from the config. */
export interface AwsClients {
  s3?: S3Client;
  [other: string]: unknown;
}

/** What every task gets: the S3 store, the clock, the settings. */
export type BaseContext = Pick<PipelineContext, 'store' | 'now' | 'lookbackDays'>;

/** The ports beyond the base that one task needs, built by that task's own handler file. */
export type ExtraPorts<Ports> = (config: AwsPipelineConfig, clients: AwsClients, store: S3ObjectStore) => Promise<Ports>;

/** For tasks that need nothing beyond the base. */
export const noExtraPorts: ExtraPorts<object> = async () => ({});

/** One JSON line per event, with the run id on every line. Never secrets: only names, ids and counts. */
export function logLine(level: 'info' | 'error', task: string, runId: string | undefined, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, task, runId, message, ...fields, time: new Date().toISOString() });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/** The S3 store every task uses, plus the task's own extra ports: exactly what its step declares, no more. */
export async function buildTaskContext<Ports extends object>(config: AwsPipelineConfig, clients: AwsClients, extra: ExtraPorts<Ports>): Promise<BaseContext & Ports> {
  const store = new S3ObjectStore(clients.s3 ?? new S3Client({ region: config.region }), {
    bucket: config.bucket,
    prefix: config.prefix,
    serverSideEncryption: 'AES256',
  });
  return { store, now: () => new Date(), lookbackDays: config.lookbackDays, ...(await extra(config, clients, store)) };
}

/**
 * A Lambda handler for one Task state. The step declares the ports it uses (a `Pick` of PipelineContext), and
 * `extra` must provide every one beyond the base: a handler that forgets one does not compile. Each handler
 * file imports only its own step and ports, so its bundle holds only what it uses. Config is read once per
 * container and the context built once; errors are rethrown as they are, so their name (TransientError, ...)
 * is what the state machine's Retry and Catch match.
 */
export function lambdaStep<I extends { runId?: string; request?: unknown }, O, Ports extends object>(
  task: PipelineTask,
  step: (context: BaseContext & Ports, input: I) => Promise<O>,
  extra: ExtraPorts<Ports>,
  clients: AwsClients = {},
): (event: I) => Promise<O> {
  let context: Promise<BaseContext & Ports> | undefined;
  return async (event) => {
    context ??= buildTaskContext(readAwsConfig(process.env), clients, extra);
    const started = Date.now();
    logLine('info', task, event.runId, 'step started');
    try {
      const output = await step(await context, event);
      logLine('info', task, event.runId, 'step succeeded', { durationMs: Date.now() - started });
      return output;
    } catch (error) {
      context = undefined;
      logLine('error', task, event.runId, 'step failed', { error: (error as Error).name, cause: (error as Error).message, durationMs: Date.now() - started });
      throw error;
    }
  };
}
