import { objectLayout } from './object-layout';
import { LockUnreadableError, RunLockedError } from './pipeline-errors';
import type { ObjectStore } from './ports';

// The run lock (state/lock.json): one run at a time per store, taken by extract and rebuild, freed by commit or
// the Catch path.

/** Who holds the lock: the run, since when, and (locally) the process, so a dead holder can be recognised. */
export interface LockBody {
  runId: string;
  acquiredAt: string;
  /** Written again by a long run as it goes (`refreshRunLock`): how recently its holder was seen working. */
  heartbeatAt?: string;
  host?: string;
  pid?: number;
}

/** This process, as a lock holder: where it runs and how to tell whether another process there is alive. */
export interface LockOwner {
  host: string;
  pid: number;
  isAlive(pid: number): boolean;
}

/** A lock older than this is taken to be left by a run that died (where the holder cannot be checked). */
export const STALE_LOCK_MS = 2 * 60 * 60 * 1000;

/** What is known of a lock's holder. */
export function lockState(held: LockBody, now: Date, owner?: LockOwner): 'live' | 'dead' | 'stale' {
  if (owner && held.host === owner.host && held.pid !== undefined) return owner.isAlive(held.pid) ? 'live' : 'dead';
  const seen = Date.parse(held.heartbeatAt ?? held.acquiredAt);
  return now.getTime() - (Number.isNaN(seen) ? Date.parse(held.acquiredAt) : seen) < STALE_LOCK_MS ? 'live' : 'stale';
}

/** The holder's heartbeat: the lock, still `runId`'s, marked as seen now. A lock someone else holds is left alone. */
export async function refreshRunLock(store: ObjectStore, runId: string, now: Date): Promise<void> {
  const held = await readLock(store);
  if (held?.runId !== runId) return;
  await store.put(objectLayout.lock, JSON.stringify({ ...held, heartbeatAt: now.toISOString() } satisfies LockBody));
}

/**
 * Takes the store's run lock for `runId` (re-entrant for the same run, so a retried step passes). A lock whose
 * process is gone from this host is taken over at once; another live run's lock raises RunLockedError saying
 * who holds it; one whose holder cannot be checked and was last seen (its heartbeat, else when it was taken) over
 * two hours ago is taken over.
 */
export async function acquireRunLock(
  store: ObjectStore,
  runId: string,
  now: Date,
  owner?: LockOwner,
): Promise<{ tookOverFrom?: string; reason?: 'dead' | 'stale' }> {
  const body = JSON.stringify({
    runId,
    acquiredAt: now.toISOString(),
    ...(owner ? { host: owner.host, pid: owner.pid } : {}),
  } satisfies LockBody);
  if (await store.putIfAbsent(objectLayout.lock, body)) return {};
  const held = await readLock(store);
  if (held?.runId === runId) return {};
  const state = held ? lockState(held, now, owner) : 'stale';
  if (held && state === 'live') {
    throw new RunLockedError(
      `Run ${held.runId} has been running since ${held.acquiredAt}${held.pid ? ` (pid ${held.pid} on ${held.host})` : ''} on this store; wait for it to finish. ` +
        `If no run is active (a crash elsewhere), run the CLI's \`unlock --force\`.`,
    );
  }
  await store.put(objectLayout.lock, body);
  return { tookOverFrom: held?.runId, reason: state === 'dead' ? 'dead' : 'stale' };
}

export async function releaseRunLock(store: ObjectStore, runId: string): Promise<void> {
  const held = await readLock(store);
  if (held?.runId === runId) await store.delete(objectLayout.lock);
}

/** The lock, or undefined when free. A lock file that cannot be read is an error, never taken as free. */
export async function readLock(store: ObjectStore): Promise<LockBody | undefined> {
  if (!(await store.exists(objectLayout.lock))) return undefined;
  const text = Buffer.from(await store.get(objectLayout.lock)).toString('utf8');
  let body: Partial<LockBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<LockBody>;
  } catch {
    body = undefined;
  }
  if (!body || typeof body.runId !== 'string' || typeof body.acquiredAt !== 'string' || Number.isNaN(Date.parse(body.acquiredAt))) {
    throw new LockUnreadableError(
      `The run lock ${store.locate(objectLayout.lock)} cannot be read (not a lock this pipeline wrote). ` +
        "If no run is active, remove it with the CLI's `unlock --force`.",
    );
  }
  return body as LockBody;
}

export function lockTakeoverMessage(runId: string, reason: 'dead' | 'stale' | undefined): string {
  return reason === 'dead'
    ? `took over the lock of run ${runId}, whose process is gone (it crashed or was killed)`
    : `took over the lock of run ${runId}, not seen for over two hours`;
}
