import { objectLayout } from './object-layout';
import { RunLockedError } from './pipeline-errors';
import type { ObjectStore } from './ports';

/** High-water marks of what has been loaded. Written only by the commit step. */
export interface Cursor {
  /** Incremental runs pull transactions from here (minus the lookback). Backfills never move it. */
  transactionsThrough: string | null;
  rewardsUpdatedThrough: string | null;
  /** The last run whose load was committed, and the warehouse's rows (transactions + rewards) after it. */
  lastCommittedRunId: string | null;
  warehouseRows: number;
}

export const EMPTY_CURSOR: Cursor = { transactionsThrough: null, rewardsUpdatedThrough: null, lastCommittedRunId: null, warehouseRows: 0 };

export async function readCursor(store: ObjectStore): Promise<Cursor> {
  if (!(await store.exists(objectLayout.cursor))) return EMPTY_CURSOR;
  return { ...EMPTY_CURSOR, ...JSON.parse(Buffer.from(await store.get(objectLayout.cursor)).toString('utf8')) };
}

export async function writeCursor(store: ObjectStore, cursor: Cursor): Promise<void> {
  await store.put(objectLayout.cursor, JSON.stringify(cursor, null, 2), { contentType: 'application/json' });
}

/** The later of two ISO instants (null counts as nothing). */
export function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

interface LockBody {
  runId: string;
  acquiredAt: string;
}

/** A lock older than this is taken to be left by a run that died. */
export const STALE_LOCK_MS = 2 * 60 * 60 * 1000;

/**
 * Takes the store's run lock for `runId` (re-entrant for the same run, so a retried step passes). Another
 * live run's lock raises RunLockedError saying who holds it; a stale one is taken over.
 */
export async function acquireRunLock(store: ObjectStore, runId: string, now: Date): Promise<{ tookOverFrom?: string }> {
  const body = JSON.stringify({ runId, acquiredAt: now.toISOString() } satisfies LockBody);
  if (await store.putIfAbsent(objectLayout.lock, body)) return {};
  const held = await readLock(store);
  if (held?.runId === runId) return {};
  if (held && now.getTime() - Date.parse(held.acquiredAt) < STALE_LOCK_MS) {
    throw new RunLockedError(
      `Run ${held.runId} has been running since ${held.acquiredAt} on this store; wait for it to finish. ` +
        `If no run is active (a crash), delete ${objectLayout.lock} or run the CLI's \`unlock\`.`,
    );
  }
  await store.put(objectLayout.lock, body);
  return { tookOverFrom: held?.runId };
}

export async function releaseRunLock(store: ObjectStore, runId: string): Promise<void> {
  const held = await readLock(store);
  if (held?.runId === runId) await store.delete(objectLayout.lock);
}

export async function readLock(store: ObjectStore): Promise<LockBody | undefined> {
  if (!(await store.exists(objectLayout.lock))) return undefined;
  try {
    return JSON.parse(Buffer.from(await store.get(objectLayout.lock)).toString('utf8')) as LockBody;
  } catch {
    return undefined;
  }
}
