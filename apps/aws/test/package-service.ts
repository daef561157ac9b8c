import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const APP = join(__dirname, '..');
// osls and the bundling plugin work in the service's own `.serverless/` folder, so two `serverless package` of this
// service at once (Jest runs test files in parallel workers) would work in the same folder. A lock folder
// serialises them across processes (in the temp folder, not the project, where the linter walks); one left by a
// killed process is taken over once it is old.
const LOCK = join(tmpdir(), `org-aws-package-${createHash('sha256').update(APP).digest('hex').slice(0, 12)}.lock`);
const STALE_LOCK_MS = 5 * 60_000;

function withPackageLock<T>(body: () => T): T {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 200);
    }
  }
  try {
    return body();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** `serverless package` offline (no credentials, no telemetry) into `out`; answers the CloudFormation template. */
export function packageService(
  out: string,
  args: string[],
): { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } {
  const result = withPackageLock(() =>
    spawnSync(process.execPath, [require.resolve('osls/bin/serverless.js'), 'package', '--package', out, ...args], {
      cwd: APP,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    }),
  );
  if (result.status !== 0)
    throw new Error(`serverless package failed (${result.signal ?? result.status}):\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}
