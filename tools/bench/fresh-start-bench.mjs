// The README's first command on a fresh machine: `npm ci && npm start` in a fresh clone of the committed HEAD, with
// no Nx cache (a clone has none), timed. Warm: npm's cache as this machine has it. BENCH_COLD=1 adds a run with an
// empty npm cache (every tarball fetched from the registry). BENCH_RUNS (default 3) warm runs; the median is the
// figure. The target: at most 60 s warm. BENCH_BASE=<git revision> also runs that revision, alternating with
// HEAD run by run, so the two are compared on the same machine in the same hour.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();

// The CPU seconds (user, system) of this process's finished children, from Linux's /proc (cutime and cstime, in
// clock ticks of 1/100 s): what `npm ci` itself spent, which the wall time mixes with the disk's waits.
const CLOCK_TICKS = 100;
function childrenCpu() {
  if (!existsSync('/proc/self/stat')) return undefined;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[13]) / CLOCK_TICKS, system: Number(fields[14]) / CLOCK_TICKS };
}

function timed(command, args, cwd, env = {}) {
  const started = performance.now();
  const cpuBefore = childrenCpu();
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const cpuAfter = childrenCpu();
  const cpu = cpuBefore && cpuAfter ? { user: cpuAfter.user - cpuBefore.user, system: cpuAfter.system - cpuBefore.system } : undefined;
  return { seconds: (performance.now() - started) / 1000, cpu };
}

/** Packages npm installed (its own record of the tree) and the files under node_modules. */
function installed(repo) {
  const packages = Object.keys(JSON.parse(readFileSync(join(repo, 'node_modules', '.package-lock.json'), 'utf8')).packages).length;
  const files = readdirSync(join(repo, 'node_modules'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
  return { packages, files };
}

function once(cold, revision) {
  const dir = mkdtempSync(join(tmpdir(), 'fresh-start-'));
  try {
    execFileSync('git', ['clone', '-q', root, join(dir, 'repo')]);
    const repo = join(dir, 'repo');
    if (revision) execFileSync('git', ['checkout', '-q', revision], { cwd: repo });
    const cache = cold ? { npm_config_cache: join(dir, 'npm-cache') } : {};
    // npm runs the scripts on the Node the clone installs: no Nx daemon, no Nx cache carried over from elsewhere.
    const env = { ...cache, NX_DAEMON: 'false', NX_SKIP_NX_CACHE: 'true', INIT_CWD: repo };
    // A fresh machine's disk holds no other run's unwritten files: the clone's, and the last run's deletion,
    // are flushed before the clock starts (left alone, their write-back ran into the next npm ci here).
    execFileSync('sync');
    const install = timed('npm', ['ci'], repo, env);
    const start = timed('npm', ['start'], repo, env);
    return { install: install.seconds, installCpu: install.cpu, start: start.seconds, tree: installed(repo) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (seconds) => seconds.toFixed(1).padStart(6);
const cpuText = (cpu) => (cpu ? `${cpu.user.toFixed(1)} + ${cpu.system.toFixed(1)}` : 'n/a');
const base = process.env.BENCH_BASE
  ? execFileSync('git', ['rev-parse', '--short', process.env.BENCH_BASE], { cwd: root, encoding: 'utf8' }).trim()
  : undefined;
const line = (revision, cache, result) =>
  console.log(
    `${revision.padEnd(8)} | ${cache.padEnd(9)} | ${s(result.install)}   | ${s(result.start)}      | ${s(result.install + result.start)}  | ${cpuText(result.installCpu)}`,
  );
const median = (values) => [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];
const summary = (revision, runs) => {
  console.log(
    `${revision}: median warm total ${median(runs.map((run) => run.install + run.start)).toFixed(1)} s; ` +
      `npm ci CPU median ${runs[0].installCpu ? median(runs.map((run) => run.installCpu.user + run.installCpu.system)).toFixed(1) : 'n/a'} s; ` +
      `installs ${runs[0].tree.packages} packages, ${runs[0].tree.files} files under node_modules`,
  );
};
console.log(
  `fresh clone of ${head}${base ? ` and of ${base}, alternating` : ''}: npm ci, then npm start (the local runner on its embedded defaults); no Nx cache`,
);
console.log('revision | npm cache | npm ci s | npm start s | total s | npm ci CPU s (user + system)');
const warm = [];
const baseRuns = [];
for (let run = 0; run < RUNS; run += 1) {
  if (base) {
    const result = once(false, base);
    baseRuns.push(result);
    line(base, 'warm', result);
  }
  const result = once(false);
  warm.push(result);
  line(head, 'warm', result);
}
if (process.env.BENCH_COLD === '1') line(head, 'cold', once(true));
if (base) summary(base, baseRuns);
summary(head, warm);
console.log(`median warm total: ${median(warm.map((run) => run.install + run.start)).toFixed(1)} s (target: at most 60 s)`);
