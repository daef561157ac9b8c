import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { IN_PROCESS_PART_TRANSFORMER, type PartTransformer, type PartTransformOutput } from '@org/pipeline';
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

/**
 * The heap a part's transform may need, from its size: a base, per row (narrow rows: their cells and columns)
 * and per byte (wide rows: the text, twice over when it is not Latin-1), each above what parts of that shape were
 * measured to need. A part whose need is over a thread's limit is transformed in the calling thread: V8 aborts
 * the whole process, not only the thread, when one allocation cannot fit a thread's heap.
 */
export function partHeapNeedMb(raw: Uint8Array): number {
  // Buffer's indexOf searches natively: a default part's newlines are counted in about a millisecond.
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let rows = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) rows += 1;
  return 48 + (rows * 1.2) / 1024 + (raw.byteLength * 5) / (1024 * 1024);
}

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
    /** Each thread's heap limit; by default `HEAP_MB_PER_100K_ROWS` per 100,000 of `partRows`. */
    heapMb?: number,
  ) {
    this.concurrency = Math.max(1, Math.floor(threads));
    this.minRows = Math.round(PARTS_FOR_THREADS * partRows);
    this.heapMb = heapMb ?? Math.max(HEAP_MB_PER_100K_ROWS, Math.ceil((HEAP_MB_PER_100K_ROWS * partRows) / 100_000));
  }

  transform(dataset: LakeDataset, raw: Uint8Array, options: { maxTextBytes?: number }): Promise<PartTransformOutput> {
    if (this.closed)
      return Promise.reject(new TransformError('POOL_CLOSED', 'The transform threads were closed; this part was not transformed.'));
    if (partHeapNeedMb(raw) > this.heapMb) {
      this.inCallingThread += 1;
      return IN_PROCESS_PART_TRANSFORMER.transform(dataset, raw, options);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, dataset, raw, maxTextBytes: options.maxTextBytes }, resolve, reject });
      this.dispatch();
    });
  }

  /** Parts transformed in the calling thread: too big for a thread's heap, or their thread ran out of it. */
  inCallingThread = 0;

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
      // A thread at work keeps the process alive (the run awaits it); an idle one does not.
      worker.ref();
      // The part's bytes are copied, not moved: this thread keeps them to transform the part itself should the
      // thread run out of heap.
      worker.postMessage(pending.request);
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
    // A thread that runs out of heap (a part of rows far wider than its bound allows for) leaves its part to this
    // thread, whose heap is the process's, as with one transform thread. A thread that dies otherwise (a crash in
    // the engine) fails its part. Either way the next part gets a new thread.
    const lost = (cause: Error & { code?: string }) => {
      if (!this.all.delete(worker)) return;
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      if (pending && cause.code === 'ERR_WORKER_OUT_OF_MEMORY' && !this.closed) {
        const { dataset, raw, maxTextBytes } = pending.request;
        this.inCallingThread += 1;
        IN_PROCESS_PART_TRANSFORMER.transform(dataset, raw, { maxTextBytes }).then(pending.resolve, pending.reject);
      } else
        pending?.reject(
          new TransformError('WORKER_LOST', `The transform thread of a ${pending.request.dataset} part stopped: ${cause.message}`, {
            cause,
          }),
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
