import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PartTransformer, PartTransformOutput } from '@org/pipeline';
import {
  CsvFormatError,
  RawInputError,
  SchemaInvariantError,
  TransformError,
  type DatasetQuality,
  type LakeDataset,
} from '@org/rewards-transform';

/** What the pool sends a worker: one raw part. */
export interface PartRequest {
  id: number;
  dataset: LakeDataset;
  raw: Uint8Array;
  maxTextBytes?: number;
}

/** What a worker answers: the part's output, or the rules' error as plain fields. */
export type PartReply =
  | { id: number; ok: true; parquet: Uint8Array; rejectsCsv?: string; quality: DatasetQuality }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; dataset?: string } };

/** The most threads the transform uses by default: parts are 100k rows, and each thread holds one. */
const DEFAULT_MAX_THREADS = 4;
/**
 * Runs of fewer raw rows than one and a half parts stay in the runner's thread: starting a thread (it loads the
 * rules and compiles parquet-wasm) costs about what a second thread saves on that many rows of the default parts
 * (the transform benchmark's production path shows both).
 */
export const PARTS_FOR_THREADS = 1.5;
/** A thread's heap limit per 100,000 rows of its parts (a part of wide, awkward rows included). */
const HEAP_MB_PER_100K_ROWS = 384;

/** The transform threads this machine gets by default: one per core, at most `DEFAULT_MAX_THREADS`. */
export function defaultTransformThreads(): number {
  return Math.min(DEFAULT_MAX_THREADS, availableParallelism());
}

/**
 * The worker's script beside this module: `part-worker.js` in the built CLI (dist/), `part-worker.cjs` in the
 * bundle `npm start` makes (dist-start/). Undefined when this module runs from its TypeScript sources (tests that
 * import them), where no worker script exists.
 */
export function partWorkerScript(directory = __dirname): string | undefined {
  return ['part-worker.js', 'part-worker.cjs'].map((name) => join(directory, name)).find((file) => existsSync(file));
}

interface Pending {
  request: PartRequest;
  resolve: (output: PartTransformOutput) => void;
  reject: (error: Error) => void;
}

/**
 * The rules on worker threads, one raw part per thread at a time (`PartTransformer` of `@org/pipeline`), so a run
 * of many parts uses the machine's cores. A part's output is the same bytes as in one thread. Threads start on the
 * first part and live until `close()`, which a runner calls at the end of its run.
 */
export class PartWorkerPool implements PartTransformer {
  readonly concurrency: number;
  readonly minRows: number;
  private readonly heapMb: number;
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly script: string,
    threads: number,
    /** Rows per raw part of the runs it serves (`--part-rows`). */
    partRows = 100_000,
  ) {
    this.concurrency = Math.max(1, Math.floor(threads));
    this.minRows = Math.round(PARTS_FOR_THREADS * partRows);
    this.heapMb = Math.max(HEAP_MB_PER_100K_ROWS, Math.ceil((HEAP_MB_PER_100K_ROWS * partRows) / 100_000));
  }

  transform(dataset: LakeDataset, raw: Uint8Array, options: { maxTextBytes?: number }): Promise<PartTransformOutput> {
    if (this.closed)
      return Promise.reject(new TransformError('POOL_CLOSED', 'The transform threads were closed; this part was not transformed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, dataset, raw, maxTextBytes: options.maxTextBytes }, resolve, reject });
      this.dispatch();
    });
  }

  /** Threads started and not stopped. */
  get threads(): number {
    return this.all.size;
  }

  /** Stops the threads once no part is queued or running (the next part starts new ones). */
  async release(): Promise<void> {
    if (this.queue.length > 0 || this.busy.size > 0) return;
    const stopping = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(stopping.map((worker) => worker.terminate()));
  }

  /** Stops every thread; a part still queued or running fails. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = new TransformError('POOL_CLOSED', 'The transform threads were closed before this part was done.');
    for (const pending of this.queue.splice(0)) pending.reject(stopping);
    for (const pending of this.busy.values()) pending.reject(stopping);
    this.busy.clear();
    this.idle.length = 0;
    await Promise.all([...this.all].map((worker) => worker.terminate()));
    this.all.clear();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.all.size < this.concurrency ? this.spawn() : undefined);
      if (!worker) return;
      const pending = this.queue.shift() as Pending;
      this.busy.set(worker, pending);
      const { raw } = pending.request;
      // The part's bytes move to the thread when they are a buffer of their own (the store's read of the part).
      const owned = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && !(raw.buffer instanceof SharedArrayBuffer);
      // A thread at work keeps the process alive (the run awaits it); an idle one does not.
      worker.ref();
      worker.postMessage(pending.request, owned ? [raw.buffer as ArrayBuffer] : []);
    }
  }

  private spawn(): Worker {
    // A part's memory is bounded by its rows: so is its thread's heap, which V8 would otherwise let grow well past
    // what the part needs before collecting, once per thread.
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    this.all.add(worker);
    worker.on('message', (reply: PartReply) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      this.idle.push(worker);
      worker.unref();
      if (pending) {
        if (reply.ok) {
          const { parquet, rejectsCsv, quality } = reply;
          pending.resolve({ parquet, quality, ...(rejectsCsv ? { rejectsCsv } : {}) });
        } else {
          pending.reject(rulesError(reply.error));
        }
      }
      this.dispatch();
    });
    // A thread that dies (out of memory, a crash in the engine) fails its part; the next part gets a new thread.
    const lost = (cause: Error) => {
      if (!this.all.delete(worker)) return;
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      pending?.reject(
        new TransformError('WORKER_LOST', `The transform thread of a ${pending.request.dataset} part stopped: ${cause.message}`, { cause }),
      );
      if (!this.closed) this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`it exited with code ${code}`)));
    return worker;
  }
}

/** The rules' error again, of its own class, from the fields a worker sent. */
function rulesError(fields: { name: string; message: string; code?: string; dataset?: string }): Error {
  if (fields.name === 'RawInputError' && fields.dataset !== undefined) {
    const prefix = `${fields.dataset}: `;
    return new RawInputError(fields.dataset, fields.message.startsWith(prefix) ? fields.message.slice(prefix.length) : fields.message);
  }
  if (fields.name === 'SchemaInvariantError') return new SchemaInvariantError(fields.message);
  if (fields.name === 'CsvFormatError') return new CsvFormatError(fields.message);
  return Object.assign(new TransformError(fields.code ?? 'TRANSFORM', fields.message), { name: fields.name });
}
