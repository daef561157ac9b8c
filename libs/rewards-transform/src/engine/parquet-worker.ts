// The thread of a ParquetThread (parquet-thread.ts): receives a table's Arrow IPC chunks and writes them as
// Parquet row groups with parquet-wasm's streaming writer, so its memory holds a chunk or two, never the table.
import { workerData, type MessagePort } from 'node:worker_threads';
import { Table as WasmTable, transformParquetStream, type RecordBatch } from 'parquet-wasm/node';
// Only parquet-wasm and the writer's settings: the thread loads none of the engine it does not run.
import { CONSUMED, EVENTS, type ParquetCompression, type ThreadMessage, type ThreadReply } from './parquet-thread-protocol';
import type { ColumnSpec } from './table';
import { writerProperties } from './writer-properties';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

interface Write {
  chunks: Uint8Array[];
  ended: boolean;
  abandoned?: boolean;
  /** Set while the writer waits for the next chunk. */
  wake?: () => void;
}
const writes = new Map<number, Write>();
const ABANDONED = 'abandoned';

/** Tells the waiting caller that something happened (a chunk taken in, a write done). */
function event(slot?: number): void {
  if (slot !== undefined) Atomics.add(signal, slot, 1);
  Atomics.add(signal, EVENTS, 1);
  Atomics.notify(signal, EVENTS);
}

function reply(message: ThreadReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  event();
}

async function write(id: number, schema: readonly ColumnSpec[], compression: ParquetCompression, rowGroupRows: number): Promise<void> {
  const state = writes.get(id) as Write;
  const batches = new ReadableStream<RecordBatch>(
    {
      pull: async (controller) => {
        while (state.chunks.length === 0 && !state.ended) await new Promise<void>((resolve) => (state.wake = resolve));
        if (state.abandoned) {
          // Counted as taken in, so the caller's bytes in flight come down; the writer stops with no file.
          for (let dropped = state.chunks.splice(0).length; dropped > 0; dropped -= 1) event(CONSUMED);
          return controller.error(new Error(ABANDONED));
        }
        const chunk = state.chunks.shift();
        if (!chunk) return controller.close();
        const table = WasmTable.fromIPCStream(chunk);
        event(CONSUMED);
        controller.enqueue(table.recordBatch(0) as RecordBatch);
        table.free();
      },
    },
    { highWaterMark: 0 },
  );
  const parts: Uint8Array[] = [];
  let size = 0;
  const output = await transformParquetStream(batches, writerProperties(schema, compression, rowGroupRows));
  for await (const part of output as unknown as AsyncIterable<Uint8Array>) {
    parts.push(part);
    size += part.length;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  writes.delete(id);
  reply({ id, parquet: bytes }, [bytes.buffer]);
}

port.on('message', (message: ThreadMessage) => {
  if (message.kind === 'open') {
    writes.set(message.id, { chunks: [], ended: false });
    write(message.id, message.schema, message.compression, message.rowGroupRows).catch((error: unknown) => {
      const abandoned = writes.get(message.id)?.abandoned === true;
      writes.delete(message.id);
      if (abandoned) return;
      const { name, message: text } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      reply({ id: message.id, error: { name, message: text } });
    });
    return;
  }
  const state = writes.get(message.id);
  if (!state) return;
  if (message.kind === 'chunk') state.chunks.push(message.ipc);
  else if (message.kind === 'abandon') [state.abandoned, state.ended] = [true, true];
  else state.ended = true;
  state.wake?.();
  state.wake = undefined;
});
