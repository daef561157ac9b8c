import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawInputError, transformDataset } from '@org/rewards-transform';
import { PartWorkerPool, partHeapNeedMb, partWorkerScript } from './part-worker-pool';
import { runCliChild, warehouseChecksums } from '../test/cli-child';

jest.setTimeout(180_000);

// The transform's worker threads, through the built CLI and the bundle `npm start` runs (child processes, real
// env vars): a run of many raw parts on two threads lands the same bytes as on one.
const APP = join(__dirname, '..');
const NOW = ['--sandbox-now', '2026-06-30T12:00:00Z', '--sandbox-months', '12'];

interface Outcome {
  ok: boolean;
  manifest: { checksums: Record<string, string>; steps: { transform: { counts: Record<string, number> } } };
}

/** Each curated part's sha256 by its place (dataset and part number), whatever the run's id. */
function curatedChecksums(outcome: Outcome): Record<string, string> {
  return Object.fromEntries(
    Object.entries(outcome.manifest.checksums)
      .filter(([key]) => key.startsWith('curated/') || key.startsWith('quarantine/'))
      .map(([key, sum]) => [key.replace(/\/ingest_date=[^/]+\/run=[^/]+/, ''), sum]),
  );
}

describe('the transform on worker threads', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'local-runner-threads-'));
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  it('the built CLI transforms many raw parts two at a time, landing the bytes one thread lands', async () => {
    const one = await runCliChild(['run', ...NOW, '--part-rows', '300', '--json', '--data-dir', join(workDir, 'one')], {
      RUNNER_TRANSFORM_THREADS: '1',
    });
    const two = await runCliChild([
      'run',
      ...NOW,
      '--part-rows',
      '300',
      '--transform-threads',
      '2',
      '--json',
      '--data-dir',
      join(workDir, 'two'),
    ]);
    expect([one.code, two.code]).toEqual([0, 0]);
    const [single, double] = [JSON.parse(one.stdout) as Outcome, JSON.parse(two.stdout) as Outcome];
    expect(single.manifest.steps.transform.counts['parts_at_once']).toBe(1);
    expect(double.manifest.steps.transform.counts['parts_at_once']).toBe(2);
    expect(double.manifest.steps.transform.counts['parts']).toBeGreaterThan(4);
    expect(curatedChecksums(double)).toEqual(curatedChecksums(single));
    expect(Object.keys(curatedChecksums(double)).length).toBe(double.manifest.steps.transform.counts['parts']);
    expect(await warehouseChecksums(join(workDir, 'two'))).toEqual(await warehouseChecksums(join(workDir, 'one')));
  });

  it("a run of fewer rows than one and a half parts stays in the runner's thread, whatever the threads", async () => {
    const small = await runCliChild(['run', ...NOW, '--transform-threads', '2', '--json', '--data-dir', join(workDir, 'small')]);
    expect(small.code).toBe(0);
    const outcome = JSON.parse(small.stdout) as Outcome;
    expect(outcome.manifest.steps.transform.counts).toMatchObject({ parts: 2, parts_at_once: 1 });
  });

  it('the bundle `npm start` runs finds its worker script beside it', async () => {
    const bundling = await runCliChild([], {}, join(APP, 'scripts', 'bundle.mjs'));
    expect(bundling).toMatchObject({ code: 0 });
    const bundle = join(APP, 'dist-start', 'local-runner.cjs');
    expect(partWorkerScript(join(bundle, '..'))).toBe(join(APP, 'dist-start', 'part-worker.cjs'));
    const run = await runCliChild(
      ['run', ...NOW, '--part-rows', '500', '--transform-threads', '2', '--data-dir', join(workDir, 'bundle')],
      {},
      bundle,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/transform: \d+ raw parts, 2 at a time/);
  });

  it('a bad RUNNER_TRANSFORM_THREADS is a usage error naming it', async () => {
    const run = await runCliChild(['run', ...NOW, '--data-dir', join(workDir, 'bad')], { RUNNER_TRANSFORM_THREADS: 'all' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('RUNNER_TRANSFORM_THREADS must be a whole number from 1 to 64, got "all"');
  });
});

describe('PartWorkerPool', () => {
  const script = partWorkerScript(join(APP, 'dist')) as string;
  const csv = (text: string) => new TextEncoder().encode(text);
  const transactions =
    'id,currency,amount,date,description\nt1,GBP,-1250,2026-01-02T10:00:00Z,TESCO\nt2,GBP,oops,2026-01-03T10:00:00Z,AMAZON\n';

  it('answers what the rules answer in this thread: the same Parquet bytes, rejects and quality', async () => {
    const pool = new PartWorkerPool(script, 2);
    try {
      const [fromWorker, inThread] = [
        await pool.transform('transactions', csv(transactions), {}),
        transformDataset('transactions', transactions),
      ];
      expect(Buffer.from(fromWorker.parquet).equals(Buffer.from(inThread.parquet))).toBe(true);
      expect(fromWorker.rejectsCsv).toBe(inThread.rejectsCsv);
      expect(fromWorker.quality).toEqual(inThread.quality);
    } finally {
      await pool.close();
    }
  });

  it("fails a part with the rules' own error, of its class, and goes on with the next part", async () => {
    const pool = new PartWorkerPool(script, 1);
    try {
      const failure = await pool
        .transform('rewards', csv('amount,createdAt\n1,2026-01-01T00:00:00Z\n'), {})
        .catch((error: unknown) => error);
      let inThread: unknown;
      try {
        transformDataset('rewards', 'amount,createdAt\n1,2026-01-01T00:00:00Z\n');
      } catch (error) {
        inThread = error;
      }
      expect(inThread).toBeInstanceOf(RawInputError);
      expect(failure).toBeInstanceOf(RawInputError);
      expect(failure).toMatchObject({ name: 'RawInputError', code: 'RAW_INPUT', message: (inThread as Error).message, dataset: 'rewards' });
      expect((await pool.transform('transactions', csv(transactions), {})).quality.rowsIn).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('stops its threads on release, and starts new ones for the next part', async () => {
    const pool = new PartWorkerPool(script, 2);
    try {
      const first = await Promise.all([
        pool.transform('transactions', csv(transactions), {}),
        pool.transform('transactions', csv(transactions), {}),
      ]);
      expect(pool.threads).toBe(2);
      await pool.release();
      expect(pool.threads).toBe(0);
      const again = await pool.transform('transactions', csv(transactions), {});
      expect(Buffer.from(again.parquet).equals(Buffer.from(first[0].parquet))).toBe(true);
      expect(pool.threads).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("transforms in this thread a part too big for a thread's heap, without starting a thread: the bytes the rules give here", async () => {
    // 1,000 rows of 2 KB descriptions: a 2 MB part, over what a thread bounded at 52 MB can hold.
    const wide = `id,currency,amount,date,description\n${Array.from(
      { length: 1_000 },
      (_, i) => `w${i},GBP,-${i + 1},2026-01-02T10:00:00Z,${'MERCHANT '.repeat(230)}${i}`,
    ).join('\n')}\n`;
    expect(partHeapNeedMb(csv(wide))).toBeGreaterThan(52);
    expect(partHeapNeedMb(csv(transactions))).toBeLessThan(52);
    const pool = new PartWorkerPool(script, 1, 100_000, 52);
    try {
      const part = await pool.transform('transactions', csv(wide), {});
      expect([pool.inCallingThread, pool.threads]).toEqual([1, 0]);
      expect(Buffer.from(part.parquet).equals(Buffer.from(transformDataset('transactions', wide).parquet))).toBe(true);
      expect(part.quality.rowsOut).toBe(1_000);
      await pool.transform('transactions', csv(transactions), {});
      expect([pool.inCallingThread, pool.threads]).toEqual([1, 1]);
    } finally {
      await pool.close();
    }
  });

  it('transforms in this thread a part whose thread ran out of heap (ERR_WORKER_OUT_OF_MEMORY): the bytes the rules give here', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'hungry-worker-'));
    // A thread that grows until its heap limit stops it (ERR_WORKER_OUT_OF_MEMORY), then one that works.
    const hungry = join(directory, 'hungry.js');
    await writeFile(
      hungry,
      "require('node:worker_threads').parentPort.on('message', () => { const kept = []; for (;;) kept.push({ at: Math.random(), cells: [1, 2, 3] }); });\n",
    );
    const pool = new PartWorkerPool(hungry, 1, 100_000, 32);
    try {
      const part = await pool.transform('transactions', csv(transactions), {});
      expect(pool.inCallingThread).toBe(1);
      expect(Buffer.from(part.parquet).equals(Buffer.from(transformDataset('transactions', transactions).parquet))).toBe(true);
      expect(part.rejectsCsv).toBe(transformDataset('transactions', transactions).rejectsCsv);
    } finally {
      await pool.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('fails the part of a thread that dies, and closing fails what is left', async () => {
    const dying = join(await mkdtemp(join(tmpdir(), 'dying-worker-')), 'dying.js');
    await writeFile(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(7));\n");
    const pool = new PartWorkerPool(dying, 1);
    await expect(pool.transform('transactions', csv(transactions), {})).rejects.toMatchObject({
      name: 'TransformError',
      code: 'WORKER_LOST',
      message: expect.stringContaining('exited with code 7'),
    });
    await pool.close();
    await expect(pool.transform('transactions', csv(transactions), {})).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await rm(join(dying, '..'), { recursive: true, force: true });
  });
});
