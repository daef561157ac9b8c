// Pulls 50,000 transactions (pages of 500) and 20,000 rewards from the sandbox with 20 ms latency per
// request, at concurrency 1 and 4 (rows checked one by one: rowValidation 'quarantine', as the pipeline pulls;
// at concurrency 4 the ledger read overlaps the pages, as extract does), and prints rows/s, wall time and peak RSS. Each concurrency runs in its
// own child process so the peak RSS figures do not mix, and the sandbox runs in a process of its own (its CLI)
// so serving does not steal the client's CPU.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlutusClient } from '@org/plutus-client';
import { DEMO_CREDENTIALS, dumpDataset, generateHistory } from '@org/plutus-sandbox';

const TRANSACTIONS = 50_000;
const REWARDS = 20_000;

if (process.argv[2] === '--child') {
  const concurrency = Number(process.argv[3]);
  // Enough history for the counts, then cut to exactly the benchmark's sizes.
  const history = generateHistory({
    seed: 1,
    start: new Date('2016-01-01T00:00:00Z'),
    now: new Date('2026-01-01T00:00:00Z'),
    purchasesPerDay: 20,
  });
  const dataset = { transactions: history.transactions.slice(0, TRANSACTIONS), rewards: history.rewards.slice(0, REWARDS) };
  if (dataset.transactions.length < TRANSACTIONS || dataset.rewards.length < REWARDS)
    throw new Error('history too small for the benchmark');
  const dir = mkdtempSync(join(tmpdir(), 'client-bench-'));
  await dumpDataset(dataset, dir);
  const cli = join(dirname(createRequire(import.meta.url).resolve('@org/plutus-sandbox')), 'cli.js');
  const server = spawn(process.execPath, [cli, '--data', dir, '--port', '0', '--latency', '20', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      const match = /listening on (\S+)/.exec(String(chunk));
      if (match) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  // As the pipeline runs it: rows that break the document come back apart instead of failing the pull.
  const client = createPlutusClient({ baseUrl: url, auth: DEMO_CREDENTIALS, rowValidation: 'quarantine' });
  const started = performance.now();
  let transactions = 0;
  const pullTransactions = async () => {
    for await (const page of client.transactions({ pageSize: 500, concurrency })) transactions += page.rows.length;
  };
  // As extract pulls: sequentially everything one at a time; with concurrency, the ledger read overlaps the pages.
  let rewards = 0;
  if (concurrency === 1) {
    await pullTransactions();
    rewards = (await client.listRewards()).length;
  } else {
    [, rewards] = await Promise.all([pullTransactions(), client.listRewards().then((rows) => rows.length)]);
  }
  const seconds = (performance.now() - started) / 1000;
  server.kill();
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ concurrency, transactions, rewards, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
} else {
  const self = fileURLToPath(import.meta.url);
  const results = [1, 4].map((concurrency) =>
    JSON.parse(
      execFileSync(process.execPath, [self, '--child', String(concurrency)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1),
    ),
  );
  console.log('plutus-client pull: 50,000 transactions (pages of 500) + 20,000 rewards, 20 ms latency per request');
  console.log('concurrency | wall s | rows/s  | peak RSS MB');
  for (const r of results) {
    const rows = r.transactions + r.rewards;
    console.log(
      `${String(r.concurrency).padStart(11)} | ${r.seconds.toFixed(2).padStart(6)} | ${Math.round(rows / r.seconds)
        .toString()
        .padStart(7)} | ${r.peakRssMb.toFixed(0).padStart(11)}`,
    );
  }
  const ratio = results[1].seconds / results[0].seconds;
  console.log(`concurrency 4 takes ${(ratio * 100).toFixed(0)}% of sequential wall time (target: at most 33%)`);
}
