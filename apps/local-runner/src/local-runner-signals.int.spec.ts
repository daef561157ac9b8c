import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbDatabase, FileObjectStore } from '@org/local-adapters';
import { objectLayout, readManifest } from '@org/pipeline';

jest.setTimeout(120_000);

const CLI = join(__dirname, '..', 'dist', 'cli.js');

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The real CLI as a child process; `stopWith` sends that signal once the run is pulling transactions. */
function cli(dataDir: string, args: string[], stopWith?: NodeJS.Signals): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['INIT_CWD'];
    const child = spawn(process.execPath, [CLI, ...args, '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stopWith && !sent && /extract: transactions \d+\/\d+/.test(stderr)) {
        sent = true;
        child.kill(stopWith);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// Crashes and interruptions through the real entry point: no run should ever need a human afterwards.
describe('local-runner after a crash or an interruption', () => {
  let dataDir: string;
  const store = () => new FileObjectStore(dataDir);
  const runIdIn = (text: string) => /run (\d{8}T\d{9}Z-[0-9a-f]{6})/.exec(text)?.[1];

  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'local-runner-signals-')), 'data');
  });
  afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }));

  it('kill -9: status shows the run abandoned, and the next run takes the dead lock over by itself', async () => {
    const killed = await cli(dataDir, ['run'], 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const lock = JSON.parse(await readFile(join(dataDir, 'state', 'lock.json'), 'utf8'));
    expect(lock).toMatchObject({ host: hostname(), pid: expect.any(Number) });

    const status = await cli(dataDir, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${lock.runId} +abandoned`));

    const next = await cli(dataDir, ['run']);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`took over the lock of run ${lock.runId}, whose process is gone`);
    expect(await store().exists(objectLayout.lock)).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exits %i, marks the run failed (Interrupted), frees the lock; the next run needs no unlock', async (signal, code) => {
    const stopped = await cli(dataDir, ['run'], signal);
    expect(stopped.code).toBe(code);
    expect(stopped.stderr).toMatch(
      new RegExp(`interrupted \\(${signal}\\); run \\S+ marked failed and its lock freed; manifest: .*manifest\\.json`),
    );
    const runId = runIdIn(stopped.stderr) as string;
    expect(await readManifest(store(), runId)).toMatchObject({
      status: 'failed',
      error: { name: 'Interrupted', message: `stopped by ${signal}` },
    });
    expect(await store().exists(objectLayout.lock)).toBe(false);
    expect((await cli(dataDir, ['run'])).code).toBe(0);
  });

  it('rebuild with no committed run to replay (runs/ moved away) refuses with exit 1 and changes nothing, unless --allow-empty', async () => {
    expect((await cli(dataDir, ['run'])).code).toBe(0);
    const counts = async () => {
      const database = new DuckDbDatabase(join(dataDir, 'warehouse.duckdb'), { readOnly: true });
      try {
        return await database.query<{ tx: number; rw: number }>(
          'SELECT (SELECT count(*) FROM transactions)::INTEGER AS tx, (SELECT count(*) FROM rewards)::INTEGER AS rw',
        );
      } finally {
        await database.close();
      }
    };
    const [before, cursor] = [await counts(), await readFile(join(dataDir, 'state', 'cursor.json'), 'utf8')];
    expect(before[0].tx).toBeGreaterThan(0);
    await rename(join(dataDir, 'runs'), join(dataDir, 'runs-moved'));

    const refused = await cli(dataDir, ['rebuild']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /RebuildRefusedError: No committed run was found .* holds \d+ rows .*Nothing was changed.*--allow-empty/,
    );
    expect(await counts()).toEqual(before);
    expect(await readFile(join(dataDir, 'state', 'cursor.json'), 'utf8')).toBe(cursor);
    expect((await cli(dataDir, ['run', '--allow-empty'])).code).toBe(2);

    // The runs back where they belong: the rebuild replays them to the same rows.
    await rm(join(dataDir, 'runs'), { recursive: true, force: true });
    await rename(join(dataDir, 'runs-moved'), join(dataDir, 'runs'));
    expect((await cli(dataDir, ['rebuild'])).code).toBe(0);
    expect(await counts()).toEqual(before);

    // Asked for by name, an empty rebuild empties the warehouse.
    await rename(join(dataDir, 'runs'), join(dataDir, 'runs-moved'));
    expect((await cli(dataDir, ['rebuild', '--allow-empty'])).code).toBe(0);
    expect(await counts()).toEqual([{ tx: 0, rw: 0 }]);
  });

  it("unlock refuses a live run's lock unless --force; an unreadable lock is reported, never taken as free", async () => {
    // This test's own process stands for a live run on this host.
    await store().put(
      objectLayout.lock,
      JSON.stringify({ runId: 'live-run', acquiredAt: new Date().toISOString(), host: hostname(), pid: process.pid }),
    );
    const refused = await cli(dataDir, ['unlock']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`run live-run holds the lock and is alive (pid ${process.pid}`);
    expect((await cli(dataDir, ['run'])).code).toBe(1);
    expect((await cli(dataDir, ['unlock', '--force'])).code).toBe(0);

    await store().put(objectLayout.lock, 'garbage{');
    const status = await cli(dataDir, ['status']);
    expect(status.stdout).toContain('lock: UNREADABLE');
    const run = await cli(dataDir, ['run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(dataDir, 'state', 'lock.json')} cannot be read`);
    expect((await cli(dataDir, ['unlock'])).code).toBe(1);
    expect((await cli(dataDir, ['unlock', '--force'])).code).toBe(0);
    expect((await cli(dataDir, ['run'])).code).toBe(0);
  });
});
