import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectStore } from '@org/local-adapters';
import { objectLayout } from '@org/pipeline';
import { warehouseChecksums } from '../test/cli-child';

jest.setTimeout(180_000);

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const FIRST = ['--sandbox-now', '2026-06-30T12:00:00Z'];
const LATER = ['--sandbox-now', '2026-08-15T12:00:00Z'];

/** The CLI as a child process; `killAt` kills it with SIGKILL that many ms after its load step starts. */
function runCli(dataDir: string, args: string[], killAt?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['INIT_CWD'];
    const child = spawn(process.execPath, [CLI, ...args, '--data-dir', dataDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killAt !== undefined && /load: merging/.test(stderr) && !child.killed) setTimeout(() => child.kill('SIGKILL'), killAt);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const warehouseState = warehouseChecksums;

// kill -9 of the real CLI while it loads: the warehouse is as before the run or as after it, never half.
describe('local-runner killed during load', () => {
  let root: string;
  let before: string;
  let stateBefore: string[];
  let stateAfter: string[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-runner-crash-'));
    before = join(root, 'before');
    expect((await runCli(before, ['run', ...FIRST])).code).toBe(0);
    stateBefore = await warehouseState(before);
    const complete = join(root, 'complete');
    await cp(before, complete, { recursive: true });
    expect((await runCli(complete, ['run', ...LATER])).code).toBe(0);
    stateAfter = await warehouseState(complete);
    expect(stateAfter).not.toEqual(stateBefore);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([0, 5, 15, 40, 100])('leaves the warehouse as before or as after when killed %i ms into the load', async (delay) => {
    const dataDir = join(root, `killed-${delay}`);
    await cp(before, dataDir, { recursive: true });
    const killed = await runCli(dataDir, ['run', ...LATER], delay);
    const state = await warehouseState(dataDir);
    expect([stateBefore, stateAfter]).toContainEqual(state);
    // Whatever the instant, a later run (once the dead run's lock is cleared) ends in the complete state.
    if (killed.signal === 'SIGKILL') await new FileObjectStore(dataDir).delete(objectLayout.lock);
    expect((await runCli(dataDir, ['run', ...LATER])).code).toBe(0);
    expect(await warehouseState(dataDir)).toEqual(stateAfter);
  });
});
