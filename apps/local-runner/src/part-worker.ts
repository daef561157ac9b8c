// A worker thread of the part pool (part-worker-pool.ts): runs the rules on the raw parts it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { TransformError, transformDataset, type LakeDataset } from '@org/rewards-transform';
import type { PartRequest, PartReply } from './part-worker-pool';

const port = parentPort;
if (!port) throw new TransformError('NOT_A_WORKER', 'part-worker.js runs as a worker thread of the local runner, not on its own.');

port.on('message', ({ id, dataset, raw, maxTextBytes }: PartRequest) => {
  let reply: PartReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const { parquet, rejectsCsv, quality } = transformDataset(
      dataset as LakeDataset,
      Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'),
      {
        maxTextBytes,
      },
    );
    reply = { id, ok: true, parquet, quality, ...(rejectsCsv ? { rejectsCsv } : {}) };
    if (parquet.byteOffset === 0 && parquet.byteLength === parquet.buffer.byteLength) transfer.push(parquet.buffer as ArrayBuffer);
  } catch (error) {
    const { name, message, code, dataset: errorDataset } = error as Error & { code?: string; dataset?: string };
    reply = { id, ok: false, error: { name, message, code, dataset: errorDataset } };
  }
  port.postMessage(reply, transfer);
});
