import { S3Client } from '@aws-sdk/client-s3';
import type { PipelineContext, PipelineTask } from '@org/pipeline';
import { S3ObjectStore } from '@org/s3-adapter';
import { readAwsConfig, type AwsPipelineConfig } from './aws-config';

/** SDK clients a test (or a caller with custom settings) may hand in; defaults are built from the config. */
export interface AwsClients {
  s3?: S3Client;
  [other: string]: unknown;
}

/** The ports beyond the object store that one task needs, built by that task's own handler file. */
export type ExtraPorts = (config: AwsPipelineConfig, clients: AwsClients, store: S3ObjectStore) => Promise<Partial<PipelineContext>>;

/** One JSON line per event, with the run id on every line. Never secrets: only names, ids and counts. */
export function logLine(level: 'info' | 'error', task: string, runId: string | undefined, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, task, runId, message, ...fields, time: new Date().toISOString() });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/** The S3 store every task uses, plus the task's extra ports; any other port throws if touched. */
export async function buildTaskContext(config: AwsPipelineConfig, clients: AwsClients, extra?: ExtraPorts): Promise<PipelineContext> {
  const store = new S3ObjectStore(clients.s3 ?? new S3Client({ region: config.region }), {
    bucket: config.bucket,
    prefix: config.prefix,
    serverSideEncryption: 'AES256',
  });
  const context: Partial<PipelineContext> = { store, now: () => new Date(), lookbackDays: config.lookbackDays, ...(await extra?.(config, clients, store)) };
  return new Proxy(context as PipelineContext, {
    get(target, property: string) {
      if (property in target) return target[property as keyof PipelineContext];
      if (['catalog', 'warehouse', 'source'].includes(property)) throw new Error(`This Lambda was not given the ${property} port.`);
      return undefined;
    },
  });
}

/**
 * A Lambda handler for one Task state. Each handler file imports only its own step and ports, so its bundle
 * holds only what it uses. Config is read once per container and the context built once; errors are rethrown
 * as they are, so their name (TransientError, ...) is what the state machine's Retry and Catch match.
 */
export function lambdaStep<I extends { runId?: string; request?: unknown }, O>(
  task: PipelineTask,
  step: (context: PipelineContext, input: I) => Promise<O>,
  extra?: ExtraPorts,
  clients: AwsClients = {},
): (event: I) => Promise<O> {
  let context: Promise<PipelineContext> | undefined;
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
