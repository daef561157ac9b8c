import { MemoryObjectStore } from '../test/memory-object-store';
import { EMPTY_CURSOR, laterOf, readCursor, writeCursor } from './cursor-state';
import { acquireRunLock, readLock, refreshRunLock, releaseRunLock, STALE_LOCK_MS } from './run-lock';
import { LockUnreadableError, RunLockedError } from './pipeline-errors';

describe('run lock', () => {
  const now = new Date('2026-01-01T10:00:00Z');

  it('lets one run in, tells a second who holds it, and is re-entrant for the holder', async () => {
    const store = new MemoryObjectStore();
    await expect(acquireRunLock(store, 'run-a', now)).resolves.toEqual({});
    await expect(acquireRunLock(store, 'run-a', now)).resolves.toEqual({});
    const second = acquireRunLock(store, 'run-b', new Date(now.getTime() + 60_000));
    await expect(second).rejects.toBeInstanceOf(RunLockedError);
    await expect(acquireRunLock(store, 'run-b', now)).rejects.toThrow('Run run-a has been running since 2026-01-01T10:00:00.000Z');
    await releaseRunLock(store, 'run-b'); // not the holder: no effect
    await expect(acquireRunLock(store, 'run-b', now)).rejects.toBeInstanceOf(RunLockedError);
    await releaseRunLock(store, 'run-a');
    await expect(acquireRunLock(store, 'run-b', now)).resolves.toEqual({});
  });

  it('takes over a lock left by a run that died', async () => {
    const store = new MemoryObjectStore();
    await acquireRunLock(store, 'crashed', now);
    await expect(acquireRunLock(store, 'next', new Date(now.getTime() + STALE_LOCK_MS + 1))).resolves.toEqual({
      tookOverFrom: 'crashed',
      reason: 'stale',
    });
  });

  it('never takes over a long run that keeps its heartbeat, however long ago it took the lock', async () => {
    const store = new MemoryObjectStore();
    await acquireRunLock(store, 'long-rebuild', now);
    const later = (ms: number) => new Date(now.getTime() + ms);
    await refreshRunLock(store, 'long-rebuild', later(STALE_LOCK_MS));
    await refreshRunLock(store, 'someone-else', later(STALE_LOCK_MS * 5)); // not the holder: no effect
    await expect(acquireRunLock(store, 'daily', later(STALE_LOCK_MS + 60_000))).rejects.toBeInstanceOf(RunLockedError);
    expect((await readLock(store))?.heartbeatAt).toBe(later(STALE_LOCK_MS).toISOString());
    // Once its heartbeat stops for over two hours, it is taken over as left behind.
    await expect(acquireRunLock(store, 'daily', later(2 * STALE_LOCK_MS + 1))).resolves.toEqual({
      tookOverFrom: 'long-rebuild',
      reason: 'stale',
    });
  });

  it('takes over at once a lock whose process is gone from this host, and never one whose process lives', async () => {
    const store = new MemoryObjectStore();
    const alive = new Set([100]);
    const owner = (pid: number) => ({ host: 'laptop', pid, isAlive: (other: number) => alive.has(other) });
    await acquireRunLock(store, 'first', now, owner(100));
    await expect(acquireRunLock(store, 'second', now, owner(200))).rejects.toThrow('(pid 100 on laptop)');
    alive.delete(100);
    await expect(acquireRunLock(store, 'second', now, owner(200))).resolves.toEqual({ tookOverFrom: 'first', reason: 'dead' });
    // Another host's lock cannot be checked: only its age counts.
    await expect(acquireRunLock(store, 'third', now, { host: 'server', pid: 300, isAlive: () => false })).rejects.toBeInstanceOf(
      RunLockedError,
    );
  });

  it('reports a lock file it cannot read instead of taking it as free', async () => {
    const store = new MemoryObjectStore();
    await store.put('state/lock.json', 'garbage{');
    await expect(acquireRunLock(store, 'next', now)).rejects.toThrow(/cannot be read.*unlock --force/);
    await expect(readLock(store)).rejects.toBeInstanceOf(LockUnreadableError);
  });
});

describe('cursor', () => {
  it('starts empty and round-trips', async () => {
    const store = new MemoryObjectStore();
    expect(await readCursor(store)).toEqual({
      transactionsThrough: null,
      rewardsUpdatedThrough: null,
      lastCommittedRunId: null,
      warehouseRows: 0,
    });
    await writeCursor(store, { ...EMPTY_CURSOR, transactionsThrough: '2026-01-01T00:00:00.000Z' });
    expect((await readCursor(store)).transactionsThrough).toBe('2026-01-01T00:00:00.000Z');
  });

  it('names the file and what to do when it cannot be read, instead of a SyntaxError or an invalid date', async () => {
    const store = new MemoryObjectStore();
    for (const text of ['{not json', JSON.stringify({ transactionsThrough: 'yesterday', rewardsUpdatedThrough: null })]) {
      await store.put('state/cursor.json', text);
      await expect(readCursor(store)).rejects.toThrow(/The cursor memory:\/\/state\/cursor\.json cannot be read .*delete it/);
    }
  });

  it('never moves backwards', () => {
    expect(laterOf('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')).toBe('2026-01-02T00:00:00Z');
    expect(laterOf(null, '2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00Z');
    expect(laterOf('2026-01-01T00:00:00Z', null)).toBe('2026-01-01T00:00:00Z');
  });
});
