// The README's first command on a fresh machine: `npm ci && npm start` in a fresh clone of the committed HEAD, with
// no Nx cache (a clone has none), timed. Warm: npm's cache as this machine has it. BENCH_COLD=1 adds a run with an
// empty npm cache (every tarball fetched from the registry). BENCH_RUNS (default 3) warm runs; the median is the
// figure. The target: at most 60 s warm.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();

function timed(command, args, cwd, env = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

function once(cold) {
  const dir = mkdtempSync(join(tmpdir(), 'fresh-start-'));
  try {
    execFileSync('git', ['clone', '-q', root, join(dir, 'repo')]);
    const repo = join(dir, 'repo');
    const cache = cold ? { npm_config_cache: join(dir, 'npm-cache') } : {};
    // npm runs the scripts on the Node the clone installs: no Nx daemon, no Nx cache carried over from elsewhere.
    const env = { ...cache, NX_DAEMON: 'false', NX_SKIP_NX_CACHE: 'true', INIT_CWD: repo };
    // A fresh machine's disk holds no other run's unwritten files: the clone's, and the last run's deletion,
    // are flushed before the clock starts (left alone, their write-back ran into the next npm ci here).
    execFileSync('sync');
    const install = timed('npm', ['ci'], repo, env);
    const start = timed('npm', ['start'], repo, env);
    return { install, start };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (seconds) => seconds.toFixed(1).padStart(6);
console.log(`fresh clone of ${head}: npm ci, then npm start (the local runner on its embedded defaults); no Nx cache`);
console.log('npm cache | npm ci s | npm start s | total s');
const warm = [];
for (let run = 0; run < RUNS; run += 1) {
  const result = once(false);
  warm.push(result);
  console.log(`warm      | ${s(result.install)}   | ${s(result.start)}      | ${s(result.install + result.start)}`);
}
if (process.env.BENCH_COLD === '1') {
  const result = once(true);
  console.log(`cold      | ${s(result.install)}   | ${s(result.start)}      | ${s(result.install + result.start)}`);
}
const totals = warm.map((result) => result.install + result.start).sort((a, b) => a - b);
console.log(`median warm total: ${totals[(totals.length - 1) >> 1].toFixed(1)} s (target: at most 60 s)`);
