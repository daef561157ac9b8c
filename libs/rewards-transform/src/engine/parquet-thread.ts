import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { TransformError } from '../transform-errors';
import { chooseDictionaryColumns, IpcArena, tableToArrowIpc } from './arrow-ipc';
import { CONSUMED, EVENTS, type ParquetCompression, type ThreadMessage, type ThreadReply } from './parquet-thread-protocol';
import { tableToParquet } from './parquet-output';
import { emptyColumn, sliceRows, type ColumnSpec, type Table } from './table';

/** Rows per Arrow chunk sent to the thread, and per Parquet row group it writes. */
export const PARQUET_THREAD_ROW_GROUP_ROWS = 65_536;
/** Tables of fewer rows are written in the caller's thread: a thread's start would cost more than it saves. */
export const PARQUET_THREAD_MIN_ROWS = 262_144;
// Bytes of chunks sent but not yet taken in by the writer, at most: what the thread may hold besides what it
// writes. About a million transactions' worth, so the first table goes over while the caller reads the next.
const BYTES_IN_FLIGHT = 80 * 2 ** 20;
// Without any event for this long (a thread that died cannot say so), the write is given up.
const STALLED_MS = 120_000;

/**
 * A Parquet writer on another thread, for large tables: `write` hands it a table as Arrow chunks (built here, in
 * `PARQUET_THREAD_ROW_GROUP_ROWS`-row row groups) and returns at once; `take` waits for the file. The caller goes on
 * with other work meanwhile (reading the next dataset, writing a smaller table itself), and neither thread holds a
 * whole table's Arrow copy or the writer's memory for it. Synchronous, like the rest of the engine: `take` blocks
 * on shared counters and reads the reply with `receiveMessageOnPort`.
 */
export class ParquetThread {
  private readonly replies = new Map<number, ThreadReply>();
  /** Sizes of the chunks sent, in order: the writer takes them in in that order. */
  private readonly sentBytes: number[] = [];
  private consumedSeen = 0;
  /** Writes begun and not yet ended: their schema, and the dictionary columns their first chunk chose. */
  private readonly streams = new Map<
    number,
    { schema: readonly ColumnSpec[]; compression: ParquetCompression; arena: IpcArena; dictionaries?: Set<string>; rowsSent: number }
  >();
  private bytesInFlight = 0;
  private nextId = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  /**
   * A thread when it can help: the machine has another core and the worker's script is built beside this module
   * (dist/engine/parquet-worker.js). From the TypeScript sources, or in a bundle without it, there is none.
   */
  static open(directory = __dirname): ParquetThread | undefined {
    const script = join(directory, 'parquet-worker.js');
    if (availableParallelism() < 2 || !existsSync(script)) return undefined;
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(script, { workerData: { port: port2, signal }, transferList: [port2] });
    // The caller waits on the thread only inside `write` and `take`: the thread keeps no process alive.
    worker.unref();
    return new ParquetThread(worker, port1, signal);
  }

  /**
   * Sends `table` to be written; answers the id `take` needs. `prepare(from, to)`, when given, is called before
   * rows [from, to) are read: a table still being filled (the facts) goes out as its rows are made.
   */
  write(
    table: Table,
    schema: readonly ColumnSpec[],
    compression: ParquetCompression,
    prepare?: (from: number, to: number) => void,
  ): number {
    const id = this.begin(schema, compression);
    this.send(id, table, prepare);
    this.end(id);
    return id;
  }

  /**
   * Opens a write whose rows come in several `send`s, for a table sent while it is read. `end` closes it; `abandon`
   * drops it (no file, no reply) when the rows sent turn out not to be the table after all.
   */
  begin(schema: readonly ColumnSpec[], compression: ParquetCompression): number {
    const id = this.nextId++;
    this.port.postMessage({ kind: 'open', id, schema, compression, rowGroupRows: PARQUET_THREAD_ROW_GROUP_ROWS } satisfies ThreadMessage);
    this.streams.set(id, { schema, compression, arena: new IpcArena(), rowsSent: 0 });
    return id;
  }

  /** Sends the rows of `table`, after those sent before, to write `id`; see `write` for `prepare`. */
  send(id: number, table: Table, prepare?: (from: number, to: number) => void): void {
    const stream = this.streams.get(id);
    if (!stream) return; // given up already: `take` throws the failure
    for (let from = 0; from < table.length; from += PARQUET_THREAD_ROW_GROUP_ROWS) {
      const to = Math.min(table.length, from + PARQUET_THREAD_ROW_GROUP_ROWS);
      prepare?.(from, to);
      const chunk = from === 0 && to === table.length ? table : sliceRows(table, from, to);
      // Every chunk of a stream has the same types: the first chunk decides which columns are dictionaries.
      stream.dictionaries ??= chooseDictionaryColumns(chunk, stream.schema);
      // A copy of its own, moved to the thread (the arena is reused for the next chunk).
      const ipc = tableToArrowIpc(chunk, stream.schema, stream.arena, stream.dictionaries).slice();
      // Once a write has failed, the thread takes in no more chunks: this write is given up too (never ended, so
      // never a partial file), and `take` throws the failure.
      this.waitUntil(
        () => this.settleConsumed() + ipc.length <= BYTES_IN_FLIGHT || this.bytesInFlight === 0 || this.failure() !== undefined,
      );
      const failure = this.failure();
      if (failure) {
        this.replies.set(id, { ...failure, id });
        this.streams.delete(id);
        return;
      }
      this.sentBytes.push(ipc.length);
      this.bytesInFlight += ipc.length;
      stream.rowsSent += to - from;
      this.port.postMessage({ kind: 'chunk', id, ipc } satisfies ThreadMessage, [ipc.buffer]);
    }
  }

  /** No more rows for write `id`: the thread finishes its file, which `take` answers. */
  end(id: number): void {
    const stream = this.streams.get(id);
    if (!stream) return; // given up already: `take` throws the failure
    this.streams.delete(id);
    if (stream.rowsSent > 0) {
      this.port.postMessage({ kind: 'end', id } satisfies ThreadMessage);
      return;
    }
    // The thread's writer learns the columns from its first chunk; with none, the (empty) file is written here.
    this.port.postMessage({ kind: 'abandon', id } satisfies ThreadMessage);
    const empty: Table = { length: 0, columns: Object.fromEntries(stream.schema.map((spec) => [spec.name, emptyColumn(spec, 0)])) };
    this.replies.set(id, { id, parquet: tableToParquet(empty, stream.schema, stream.compression) });
  }

  /** Drops write `id`: the thread frees what it was sent, and writes no file for it. */
  abandon(id: number): void {
    this.streams.delete(id);
    this.port.postMessage({ kind: 'abandon', id } satisfies ThreadMessage);
  }

  /** The Parquet file of a `write`, once the thread has written it. */
  take(id: number): Uint8Array {
    this.waitUntil(() => this.replies.has(id));
    const reply = this.replies.get(id) as ThreadReply;
    this.replies.delete(id);
    if ('error' in reply) {
      throw new TransformError('PARQUET_THREAD', `The Parquet writer's thread failed: ${reply.error.name}: ${reply.error.message}`);
    }
    return reply.parquet;
  }

  /** A write's failure, once the thread has answered one. */
  private failure(): ThreadReply | undefined {
    for (const reply of this.replies.values()) if ('error' in reply) return reply;
    return undefined;
  }

  /** The bytes still in flight, once the chunks the writer has taken in since the last look are counted off. */
  private settleConsumed(): number {
    const consumed = Atomics.load(this.signal, CONSUMED);
    for (; this.consumedSeen < consumed; this.consumedSeen += 1) this.bytesInFlight -= this.sentBytes[this.consumedSeen];
    return this.bytesInFlight;
  }

  close(): void {
    void this.worker.terminate();
  }

  private waitUntil(done: () => boolean): void {
    for (;;) {
      this.drain();
      if (done()) return;
      const seen = Atomics.load(this.signal, EVENTS);
      this.drain();
      if (done()) return;
      if (Atomics.wait(this.signal, EVENTS, seen, STALLED_MS) === 'timed-out') {
        this.close();
        throw new TransformError('PARQUET_THREAD', `The Parquet writer's thread said nothing for ${STALLED_MS / 1000} s; it was stopped.`);
      }
    }
  }

  private drain(): void {
    for (let received = receiveMessageOnPort(this.port); received; received = receiveMessageOnPort(this.port)) {
      const reply = received.message as ThreadReply;
      this.replies.set(reply.id, reply);
    }
  }
}
