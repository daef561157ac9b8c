import { objectLayout } from './object-layout';
import { CursorUnreadableError } from './pipeline-errors';
import type { ObjectStore } from './ports';

/** High-water marks of what has been loaded. Written only by the commit step. */
export interface Cursor {
  /** Incremental runs pull transactions from here (minus the lookback). Backfills never move it. */
  transactionsThrough: string | null;
  rewardsUpdatedThrough: string | null;
  /** The last run whose load was committed, and the warehouse's rows (transactions + rewards) after it. */
  lastCommittedRunId: string | null;
  warehouseRows: number;
  /** The accounts (cardholders' `user_id`) whose rows the committed runs loaded: whose data this store holds. */
  accounts?: string[];
}

export const EMPTY_CURSOR: Cursor = { transactionsThrough: null, rewardsUpdatedThrough: null, lastCommittedRunId: null, warehouseRows: 0 };

/** The cursor (empty before the first commit). A file that is not a cursor is an error naming it, never a guess. */
export async function readCursor(store: ObjectStore): Promise<Cursor> {
  if (!(await store.exists(objectLayout.cursor))) return EMPTY_CURSOR;
  const text = Buffer.from(await store.get(objectLayout.cursor)).toString('utf8');
  let cursor: Cursor | undefined;
  try {
    cursor = { ...EMPTY_CURSOR, ...(JSON.parse(text) as Partial<Cursor>) };
  } catch {
    cursor = undefined;
  }
  const instant = (value: unknown) => value === null || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
  if (
    !cursor ||
    !instant(cursor.transactionsThrough) ||
    !instant(cursor.rewardsUpdatedThrough) ||
    typeof cursor.warehouseRows !== 'number'
  ) {
    throw new CursorUnreadableError(
      `The cursor ${store.locate(objectLayout.cursor)} cannot be read (not JSON, or its instants are not ISO dates). ` +
        'Restore it from a backup, or delete it: the next run then pulls everything again, and the warehouse merges by key, so nothing is duplicated.',
    );
  }
  return cursor;
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
