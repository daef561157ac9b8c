import { hostname } from 'node:os';
import type { LockOwner } from '@org/pipeline';

/** This process as the holder of a run lock: a lock whose process is gone from this host can be taken over. */
export function thisProcessAsLockOwner(): LockOwner {
  return {
    host: hostname(),
    pid: process.pid,
    isAlive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        // EPERM: the process exists, it is only someone else's.
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
  };
}
