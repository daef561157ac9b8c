// CSV -> rules -> Parquet at 10k, 100k and 1M rows per dataset: wall time per phase and peak RSS, and in the
// same process the same join and derivations in DuckDB as the reference, with the ratio.
// Then the path production runs: the pipeline's transformStep over the run's raw parts of 100k rows (files on disk,
// no facts: the warehouse derives them), against DuckDB cleaning, typing and writing the same raw files.
// Each size runs in its own child process so peak RSS is that size's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { FileObjectStore } from '@org/local-adapters';
import { defaultTransformThreads, PartWorkerPool, partWorkerScript } from '@org/local-runner';
import { objectLayout, readManifest, transformStep } from '@org/pipeline';
import { transformRun } from '@org/rewards-transform';
import { syntheticRawCsv } from '../dist/index.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
// Runs per size; the run with the median ratio is shown (DuckDB's own time varies by a fifth between runs here).
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));

function writeSyntheticCsv(rows, dir) {
  const { transactionsCsv, rewardsCsv } = syntheticRawCsv(rows);
  // flush: the kernel's write-back of a fresh 200 MB would otherwise compete with the measured run for the CPU.
  writeFileSync(join(dir, 'transactions.csv'), transactionsCsv, { flush: true });
  writeFileSync(join(dir, 'rewards.csv'), rewardsCsv, { flush: true });
}

async function child(rows, dir) {
  const transactionsCsv = readFileSync(join(dir, 'transactions.csv'), 'utf8');
  const rewardsCsv = readFileSync(join(dir, 'rewards.csv'), 'utf8');
  const phases = {};
  const started = performance.now();
  // read and dedupe report once per dataset: add them up.
  const output = transformRun({
    transactionsCsv,
    rewardsCsv,
    withFacts: true,
    onPhase: (phase, ms) => (phases[phase] = (phases[phase] ?? 0) + ms),
  });
  const ours = performance.now() - started;
  for (const [name, bytes] of Object.entries(output.parquet)) writeFileSync(join(dir, `ours-${name}.parquet`), bytes);
  const ourPeakMb = process.resourceUsage().maxRSS / 1024;

  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const duckStarted = performance.now();
  await connection.run(`
    CREATE TEMP TABLE t AS SELECT * FROM read_csv('${join(dir, 'transactions.csv')}', header = true, types = {'amount': 'BIGINT', 'date': 'TIMESTAMPTZ', 'id': 'VARCHAR'});
    CREATE TEMP TABLE r AS SELECT * FROM read_csv('${join(dir, 'rewards.csv')}', header = true, types = {'amount': 'DECIMAL(20,8)', 'fiat_amount_rewarded': 'DECIMAL(18,6)', 'rebate_rate': 'DECIMAL(12,8)', 'createdAt': 'TIMESTAMPTZ', 'updatedAt': 'TIMESTAMPTZ', 'id': 'VARCHAR', 'reference_id': 'VARCHAR'})
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY updatedAt DESC) = 1;
    COPY (SELECT *, abs(amount)::DECIMAL(18,2) / 100 AS transaction_amount FROM t) TO '${join(dir, 'duck-transactions.parquet')}' (FORMAT parquet, COMPRESSION snappy);
    COPY r TO '${join(dir, 'duck-rewards.parquet')}' (FORMAT parquet, COMPRESSION snappy);
    COPY (
      SELECT r.*, t.id IS NOT NULL AS has_transaction, t.description AS merchant, t.date AS transaction_date,
        abs(t.amount)::DECIMAL(18,2) / 100 AS transaction_amount,
        coalesce(r.fiat_amount_rewarded, abs(t.amount) / 100 * r.rebate_rate) AS reward_amount,
        CASE WHEN r.amount = 0 THEN NULL WHEN r.rebate_rate = 0 THEN r.fiat_amount_rewarded / r.amount
             ELSE abs(t.amount) / 100 * r.rebate_rate / r.amount END::DOUBLE AS plu_price,
        (coalesce(r.fiat_amount_rewarded, 0) / nullif(abs(t.amount) / 100, 0))::DOUBLE AS effective_reward_rate,
        coalesce(r.reason ILIKE '%rejected%', false) AS is_rejected, strftime(r.createdAt, '%Y-%m') AS reward_month
      FROM r LEFT JOIN t ON r.reference_id = t.id
    ) TO '${join(dir, 'duck-reward_facts.parquet')}' (FORMAT parquet, COMPRESSION snappy);
  `);
  const duck = performance.now() - duckStarted;
  const threads = Number((await connection.runAndReadAll("SELECT current_setting('threads') AS n")).getRowObjectsJson()[0].n);
  const check = await connection.runAndReadAll(
    `SELECT (SELECT count(*) FROM read_parquet('${join(dir, 'ours-reward_facts.parquet')}'))::INT AS ours, (SELECT count(*) FROM read_parquet('${join(dir, 'duck-reward_facts.parquet')}'))::INT AS duck`,
  );
  console.log(JSON.stringify({ rows, phases, ours, ourPeakMb, duck, threads, factRows: check.getRowObjectsJson()[0] }));
}

// What the extract lands: parts of at most this many rows, each with the header (DEFAULT_PART_ROWS of the pipeline).
const PART_ROWS = 100_000;
const PART_PREFIX = { transactions: 'transactions', rewards: 'rewards' };

/** A dataset's raw CSV cut into the extract's parts, each with the header (the synthetic rows hold no newline). */
function rawParts(csv) {
  const lines = csv.split('\n').filter(Boolean);
  const [header, ...rows] = lines;
  const parts = [];
  for (let at = 0; at < rows.length; at += PART_ROWS) parts.push(`${header}\n${rows.slice(at, at + PART_ROWS).join('\n')}\n`);
  return parts;
}

/** The run's raw parts in a lake on disk, with a manifest whose extract lists them, as the extract leaves it. */
async function landRawParts(dir) {
  const store = new FileObjectStore(join(dir, 'lake'));
  const runId = 'bench-run';
  const ingestDate = '2026-06-30';
  const parts = {};
  const counts = {};
  for (const dataset of Object.keys(PART_PREFIX)) {
    parts[dataset] = [];
    counts[dataset] = 0;
    for (const [index, text] of rawParts(readFileSync(join(dir, `${PART_PREFIX[dataset]}.csv`), 'utf8')).entries()) {
      const key = objectLayout.raw(dataset, ingestDate, runId, index);
      await store.put(key, text, { contentType: 'text/csv' });
      parts[dataset].push(key);
      counts[dataset] += text.split('\n').length - 2;
    }
  }
  const now = new Date().toISOString();
  const manifest = {
    runId,
    ingestDate,
    mode: 'incremental',
    status: 'running',
    startedAt: now,
    window: { transactionsFrom: null, transactionsTo: now, rewardsUpdatedFrom: null, rewardsUpdatedTo: now },
    cursorBefore: { transactionsThrough: null, rewardsUpdatedThrough: null },
    observed: { transactionsThrough: null, rewardsUpdatedThrough: null },
    steps: { extract: { status: 'succeeded', startedAt: now, finishedAt: now, durationMs: 0, counts, parts } },
    checksums: {},
  };
  await store.put(objectLayout.manifest(runId), JSON.stringify(manifest), { contentType: 'application/json' });
}

async function productionChild(rows, dir, threads) {
  const store = new FileObjectStore(join(dir, 'lake'));
  const { runId, steps } = JSON.parse(readFileSync(join(dir, 'lake', objectLayout.manifest('bench-run')), 'utf8'));
  const parts = steps.extract.parts;
  // As the local runner runs it: parts on worker threads when it has more than one (their start is counted).
  const started = performance.now();
  const pool = threads > 1 ? new PartWorkerPool(partWorkerScript(), threads) : undefined;
  await transformStep({ store, now: () => new Date(), ...(pool ? { partTransformer: pool } : {}) }, { runId });
  await pool?.close();
  const ours = performance.now() - started;
  const ourPeakMb = process.resourceUsage().maxRSS / 1024;
  const manifest = await readManifest(store, runId);
  const curated = manifest.steps.transform.parts;

  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const files = (dataset) => `[${parts[dataset].map((key) => `'${join(dir, 'lake', key)}'`).join(', ')}]`;
  const duckStarted = performance.now();
  await connection.run(`
    COPY (
      SELECT *, abs(amount)::DECIMAL(18,2) / 100 AS transaction_amount
      FROM read_csv(${files('transactions')}, header = true, types = {'amount': 'BIGINT', 'date': 'TIMESTAMPTZ', 'id': 'VARCHAR'})
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY date DESC) = 1
    ) TO '${join(dir, 'duck-transactions.parquet')}' (FORMAT parquet, COMPRESSION snappy);
    COPY (
      SELECT * FROM read_csv(${files('rewards')}, header = true, types = {'amount': 'DECIMAL(20,8)', 'fiat_amount_rewarded': 'DECIMAL(18,6)', 'rebate_rate': 'DECIMAL(12,8)', 'createdAt': 'TIMESTAMPTZ', 'updatedAt': 'TIMESTAMPTZ', 'id': 'VARCHAR', 'reference_id': 'VARCHAR'})
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY updatedAt DESC) = 1
    ) TO '${join(dir, 'duck-rewards.parquet')}' (FORMAT parquet, COMPRESSION snappy);
  `);
  const duck = performance.now() - duckStarted;
  const duckThreads = Number((await connection.runAndReadAll("SELECT current_setting('threads') AS n")).getRowObjectsJson()[0].n);
  // The rows out, read back from both sides' Parquet by DuckDB.
  const count = async (paths) =>
    Number(
      (
        await connection.runAndReadAll(`SELECT count(*)::INT AS n FROM read_parquet([${paths.map((p) => `'${p}'`).join(', ')}])`)
      ).getRowObjectsJson()[0].n,
    );
  const rowsOut = {};
  for (const dataset of Object.keys(PART_PREFIX)) {
    rowsOut[dataset] = {
      ours: await count(curated[dataset].map((key) => join(dir, 'lake', key))),
      duck: await count([join(dir, `duck-${dataset}.parquet`)]),
    };
  }
  console.log(
    JSON.stringify({
      rows,
      parts: parts.transactions.length + parts.rewards.length,
      ourThreads: threads,
      ours,
      ourPeakMb,
      duck,
      threads: duckThreads,
      rowsOut,
    }),
  );
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4]);
} else if (process.argv[2] === '--production-child') {
  await productionChild(Number(process.argv[3]), process.argv[4], Number(process.argv[5]));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `rewards-transform: CSV -> rules -> Parquet (3 datasets), N transactions x N rewards; reference: DuckDB, same process; median of ${RUNS} run(s) by ratio`,
  );
  console.log('rows      | read   | dedupe | join   | parquet | total s | peak RSS MB | DuckDB s (threads) | ratio');
  const results = [];
  for (const rows of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'transform-bench-'));
    try {
      writeSyntheticCsv(rows, dir);
      const runs = [];
      for (let run = 0; run < RUNS; run += 1) {
        const out = execFileSync(process.execPath, ['--max-old-space-size=4096', self, '--child', String(rows), dir], { encoding: 'utf8' });
        runs.push(JSON.parse(out.trim().split('\n').at(-1)));
      }
      runs.sort((x, y) => x.ours / x.duck - y.ours / y.duck);
      const r = runs[(runs.length - 1) >> 1];
      results.push(r);
      const s = (ms) => (ms / 1000).toFixed(2).padStart(6);
      console.log(
        `${String(rows).padEnd(9)} | ${s(r.phases.read)} | ${s(r.phases.dedupe)} | ${s(r.phases.join)} | ${s(r.phases.parquet)}  | ${s(r.ours)}  | ${r.ourPeakMb.toFixed(0).padStart(11)} | ${s(r.duck)} (${r.threads})        | ${(r.ours / r.duck).toFixed(2)}x`,
      );
      if (r.factRows.ours !== r.factRows.duck) console.log(`  ! fact rows differ: ours ${r.factRows.ours}, DuckDB ${r.factRows.duck}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('');
  console.log(
    `production path: transformStep over raw parts of ${PART_ROWS} rows on disk, no facts; reference: DuckDB reading, typing, de-duplicating and writing the same files`,
  );
  console.log('rows      | parts | threads | total s | peak RSS MB | DuckDB s (threads) | ratio | rows out tx/rw (DuckDB)');
  // One thread, then the local runner's default (one per core, at most 4).
  const threadCounts = [...new Set([1, defaultTransformThreads()])];
  for (const rows of SIZES.filter((n) => n >= PART_ROWS)) {
    const dir = mkdtempSync(join(tmpdir(), 'transform-bench-'));
    try {
      writeSyntheticCsv(rows, dir);
      for (const threads of threadCounts) {
        const runs = [];
        for (let run = 0; run < RUNS; run += 1) {
          // Landed here, so the child's peak RSS is the transform's alone.
          rmSync(join(dir, 'lake'), { recursive: true, force: true });
          await landRawParts(dir);
          const out = execFileSync(process.execPath, [self, '--production-child', String(rows), dir, String(threads)], {
            encoding: 'utf8',
          });
          runs.push(JSON.parse(out.trim().split('\n').at(-1)));
        }
        runs.sort((x, y) => x.ours / x.duck - y.ours / y.duck);
        const r = runs[(runs.length - 1) >> 1];
        const s = (ms) => (ms / 1000).toFixed(2).padStart(6);
        const out = `${r.rowsOut.transactions.ours}/${r.rowsOut.rewards.ours} (${r.rowsOut.transactions.duck}/${r.rowsOut.rewards.duck})`;
        console.log(
          `${String(rows).padEnd(9)} | ${String(r.parts).padStart(5)} | ${String(r.ourThreads).padStart(7)} | ${s(r.ours)}  | ${r.ourPeakMb.toFixed(0).padStart(11)} | ${s(r.duck)} (${r.threads})        | ${(r.ours / r.duck).toFixed(2)}x | ${out}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('targets at 1M rows per dataset: at most 2.0x DuckDB time, at most 1.2 GB peak RSS');
  if (results.length >= 2) {
    const [a, b] = results.slice(-2);
    console.log(`growth ${a.rows} -> ${b.rows} rows: time x${(b.ours / a.ours).toFixed(1)} for x${b.rows / a.rows} rows`);
  }
  console.log(
    'targets at 1M x 1M: at most 2.0x DuckDB time (DuckDB on all its threads; this engine on the calling thread and one Parquet thread), at most 1.2 GB peak RSS',
  );
}
