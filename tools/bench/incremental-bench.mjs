// The incremental model at scale: for histories of about 3k, 300k and 3M transactions (with as many rewards),
// the real pipeline's first load, a run with nothing new, and a run with one new day: wall time and peak RSS per
// step, and the sandbox's own CPU time shown apart (moving the sandbox's clock regenerates its history: that is
// done before the run it serves, not counted in it). The sandbox runs in its own process (it holds the whole
// synthetic history); each pipeline run runs in its own process, so its peak RSS is its own.
//   BENCH_HISTORIES=3000,300000,3000000   which history sizes (transactions)
//   BENCH_REPEATS=3                       how many no-change runs, and one-new-day runs (a day later each); the
//                                         ratios use the median of each, as one run on 2 cores moves by a fifth
// After each history's runs, `verify --deep` (every committed run's Parquet digested again) is timed apart.
//   BENCH_KEEP=1                          keep each history's data dir (its path is printed) to look into it after
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readRunnerConfig, runPipelineOnce, verifyDataDir } from '@org/local-runner';
import { createPlutusClient } from '@org/plutus-client';
import { startSandbox } from '@org/plutus-sandbox';

const SELF = fileURLToPath(import.meta.url);
const HISTORIES = (process.env.BENCH_HISTORIES ?? '3000,300000,3000000').split(',').map(Number);
// One daily volume for every history (about 30 cardholders' card use), so each run after the first pulls about the
// same rows whatever the history holds; a larger history is a longer one (3M rows reach back about a century:
// synthetic, but it is the size that matters here).
const PURCHASES_PER_DAY = 82;
const monthsFor = (transactions) => Math.max(1, Math.round(transactions / (PURCHASES_PER_DAY * 30.44 * 1.03)));
const NOW = '2026-06-30T12:00:00Z';
const STEPS = ['extract', 'transform', 'load', 'catalog', 'commit'];
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** The sandbox in this process: serves the history, answers `now ISO` (move the clock, warm up) and `cpu`. */
async function sandboxChild(transactions) {
  const sandbox = await startSandbox({ now: NOW, months: monthsFor(transactions), purchasesPerDay: PURCHASES_PER_DAY });
  const cpuMs = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  const data = sandbox.data();
  globalThis.gc?.();
  console.log(
    JSON.stringify({
      url: sandbox.url,
      credentials: sandbox.credentials,
      transactions: data.transactions.length,
      rewards: data.rewards.length,
      cpuMs: cpuMs(),
    }),
  );
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, argument] = line.split(' ');
    if (command === 'quit') process.exit(0);
    if (command === 'now') {
      sandbox.setNow(argument);
      // Generate the new clock's history and serialise its ledger now, so the next run does not wait for what a
      // real API never does (the sandbox regenerates everything when its clock moves: 15 s of CPU at 3M rows).
      sandbox.data();
      await createPlutusClient({ baseUrl: sandbox.url, auth: sandbox.credentials, userAgent: 'bench-warm-up' }).readRewards(
        { changedSince: NOW },
        () => undefined,
      );
    }
    // The CPU the sandbox spent serving the run that just ended ('cpu'), or up to the next run ('now').
    const spent = command === 'cpu' ? cpuMs() : undefined;
    // Then its garbage is collected, before the next run starts: V8 would otherwise collect it on background
    // threads during that run, taking one of the machine's two cores from the run being measured.
    globalThis.gc?.();
    // readyCpuMs: where the next run's count starts.
    console.log(JSON.stringify({ cpuMs: spent ?? cpuMs(), readyCpuMs: cpuMs() }));
  }
}

/** One pipeline run against the sandbox (as real Plutus, over HTTP), sampling RSS to attribute it to steps. */
async function runChild(dataDir) {
  const samples = [];
  const sample = () => samples.push([Date.now(), process.memoryUsage().rss]);
  const timer = setInterval(sample, 20);
  const config = readRunnerConfig(['run', '--data-dir', dataDir], process.env, process.cwd());
  const started = Date.now();
  const outcome = await runPipelineOnce(config, () => sample());
  clearInterval(timer);
  sample();
  const steps = {};
  for (const step of STEPS) {
    const record = outcome.manifest?.steps?.[step];
    if (!record?.finishedAt) continue;
    const from = Date.parse(record.startedAt);
    const to = Date.parse(record.finishedAt);
    // The first sample after the step counts too: a step's synchronous work blocks the sampler until it ends.
    const inside = samples.filter(([at]) => at >= from && at <= to + 25).map(([, rss]) => rss);
    steps[step] = { ms: record.durationMs, peakMb: Math.max(0, ...inside) / 2 ** 20 };
  }
  const counts = outcome.manifest?.steps?.extract?.counts ?? {};
  console.log(
    JSON.stringify({
      ok: outcome.ok,
      failure: outcome.failure,
      wallMs: Date.now() - started,
      peakMb: process.resourceUsage().maxRSS / 1024,
      steps,
      counts,
    }),
  );
}

/** `verify --deep` on the data dir, in its own process: its wall time, peak RSS and whether every check agreed. */
async function verifyChild(dataDir) {
  const config = readRunnerConfig(['verify', '--deep', '--data-dir', dataDir], process.env, process.cwd());
  const started = Date.now();
  const report = await verifyDataDir(config, () => undefined);
  console.log(
    JSON.stringify({
      ok: report.ok,
      failed: report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.problems[0]}`),
      wallMs: Date.now() - started,
      peakMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

/** The next JSON line a child prints (one reader per child, so its stdout gains no listener per call). */
const readers = new WeakMap();
function line(child) {
  if (!readers.has(child)) readers.set(child, createInterface({ input: child.stdout })[Symbol.asyncIterator]());
  return readers
    .get(child)
    .next()
    .then(({ value }) => JSON.parse(value));
}

async function bench() {
  console.log(
    `incremental runs: histories of N transactions (about as many rewards) at ${PURCHASES_PER_DAY} purchases a day; lookback 7 days; each run in its own process`,
  );
  console.log(
    'ledger s: reading the whole rewards ledger, which the API cannot filter (part of extract); sandbox CPU s: the sandbox serving, apart',
  );
  console.log(
    'history   | run         | rows pulled (tx/rw) | extract s (ledger s) | transform s | load s | catalog+commit s | total s | peak RSS MB (extract/transform/load) | process peak MB | sandbox CPU s',
  );
  const results = {};
  for (const history of HISTORIES) {
    const sandbox = spawn(process.execPath, ['--max-old-space-size=20000', '--expose-gc', SELF, '--sandbox', String(history)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const generatedAt = Date.now();
    const ready = await line(sandbox);
    const generateS = (Date.now() - generatedAt) / 1000;
    const dataDir = mkdtempSync(join(tmpdir(), 'incremental-bench-'));
    const env = {
      ...process.env,
      PLUTUS_BASE_URL: ready.url,
      PLUTUS_EMAIL: ready.credentials.email,
      PLUTUS_PASSWORD: ready.credentials.password,
      PLUTUS_TOTP_SECRET: ready.credentials.totpSecret,
    };
    let cpuBefore = ready.cpuMs;
    const run = async (name, clock) => {
      if (clock) {
        sandbox.stdin.write(`now ${clock}\n`);
        cpuBefore = (await line(sandbox)).readyCpuMs;
      }
      // No heap flag: the run gets Node's defaults, as the CLI does.
      const out = execFileSync(process.execPath, [SELF, '--run', dataDir], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
      const result = JSON.parse(out.trim().split('\n').at(-1));
      sandbox.stdin.write('cpu\n');
      const served = await line(sandbox);
      result.sandboxCpuMs = served.cpuMs - cpuBefore;
      cpuBefore = served.readyCpuMs;
      const s = (ms) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
      const st = result.steps;
      console.log(
        `${String(history).padEnd(9)} | ${name.padEnd(11)} | ${`${result.counts.transactions}/${result.counts.rewards}`.padStart(19)} | ${`${s(st.extract?.ms)} (${s(result.counts.rewards_ledger_ms)})`.padStart(20)} | ${s(st.transform?.ms).padStart(11)} | ${s(st.load?.ms).padStart(6)} | ${s((st.catalog?.ms ?? 0) + (st.commit?.ms ?? 0)).padStart(16)} | ${s(result.wallMs).padStart(7)} | ${[
          'extract',
          'transform',
          'load',
        ]
          .map((step) => (st[step]?.peakMb ?? 0).toFixed(0))
          .join('/')
          .padStart(
            36,
          )} | ${result.peakMb.toFixed(0).padStart(15)} | ${s(result.sandboxCpuMs).padStart(13)}${result.ok ? '' : `  FAILED: ${result.failure}`}`,
      );
      return result;
    };
    try {
      console.log(
        `${String(history).padEnd(9)} | (sandbox generated ${ready.transactions} transactions, ${ready.rewards} rewards in ${generateS.toFixed(1)} s)`,
      );
      const first = await run('first load');
      const noChange = [];
      for (let i = 0; i < REPEATS; i += 1) noChange.push(await run('no change'));
      const oneDay = [];
      for (let day = 1; day <= REPEATS; day += 1)
        oneDay.push(await run('one new day', new Date(Date.parse(NOW) + day * 86_400_000).toISOString()));
      results[history] = { first, noChange, oneDay };
      // The deep check reads every committed run's Parquet again: printed apart, it is not part of a run.
      const out = execFileSync(process.execPath, [SELF, '--verify', dataDir], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
      const deep = JSON.parse(out.trim().split('\n').at(-1));
      console.log(
        `${String(history).padEnd(9)} | verify --deep: ${(deep.wallMs / 1000).toFixed(2)} s, peak RSS ${deep.peakMb.toFixed(0)} MB, ${deep.ok ? 'every check agreed' : `DIFFERENCES: ${deep.failed.join(' | ')}`}`,
      );
    } finally {
      sandbox.stdin.write('quit\n');
      await new Promise((resolve) => sandbox.once('close', resolve));
      if (process.env.BENCH_KEEP === '1') console.log(`${String(history).padEnd(9)} | (data dir kept: ${dataDir})`);
      else rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const sizes = Object.keys(results)
    .map(Number)
    .sort((a, b) => a - b);
  if (sizes.length >= 2) {
    const small = results[sizes[0]];
    const large = results[sizes.at(-1)];
    const withoutLedger = (result) => result.wallMs - (result.counts.rewards_ledger_ms ?? 0);
    const ratio = (name, figure) => median(large[name].map(figure)) / median(small[name].map(figure));
    for (const name of ['noChange', 'oneDay']) {
      console.log(
        `${name === 'noChange' ? 'no change  ' : 'one new day'}: ${sizes.at(-1)} vs ${sizes[0]} history (medians of ${REPEATS}): time x${ratio(name, (r) => r.wallMs).toFixed(2)} ` +
          `(x${ratio(name, withoutLedger).toFixed(2)} without the ledger read), peak RSS x${ratio(name, (r) => r.peakMb).toFixed(2)}`,
      );
    }
    console.log(`first load of the ${sizes.at(-1)} history: peak RSS ${large.first.peakMb.toFixed(0)} MB (target 1,500)`);
  }
  console.log('targets: the largest history runs within 1.5x of the smallest in time and peak RSS; the 3M first load within 1.5 GB');
}

if (process.argv[2] === '--sandbox') await sandboxChild(Number(process.argv[3]));
else if (process.argv[2] === '--run') await runChild(process.argv[3]);
else if (process.argv[2] === '--verify') await verifyChild(process.argv[3]);
else await bench();
