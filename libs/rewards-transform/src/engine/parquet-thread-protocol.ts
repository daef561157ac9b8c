import type { ColumnSpec } from './table';

/** Compression codecs of the curated Parquet. */
export type ParquetCompression = 'snappy' | 'zstd';

// Slots of the counters a ParquetThread shares with its worker: every event, and chunks taken in.
export const EVENTS = 0;
export const CONSUMED = 1;

export type ThreadMessage =
  | { kind: 'open'; id: number; schema: readonly ColumnSpec[]; compression: ParquetCompression; rowGroupRows: number }
  | { kind: 'chunk'; id: number; ipc: Uint8Array }
  | { kind: 'end'; id: number }
  /** The write is dropped: its chunks are taken in and freed, no file and no reply come of it. */
  | { kind: 'abandon'; id: number };

export type ThreadReply = { id: number; parquet: Uint8Array } | { id: number; error: { name: string; message: string } };
