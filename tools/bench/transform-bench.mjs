// CSV -> rules -> Parquet at 10k, 100k and 1M rows per dataset: wall time per phase and peak RSS, and in the
// same process the same join and derivations in DuckDB as the reference, with the ratio.
// Each size runs in its own child process so peak RSS is that size's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);

function syntheticCsv(rows, dir) {
  // Deterministic rows shaped like the API's: 5% of rewards point at no transaction, 1% are duplicates.
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const merchants = ['TESCO STORES 3291 LONDON GB', 'PRET A MANGER', 'TFL TRAVEL CH', 'AMAZON.CO.UK*2K4LM', 'CAFFÈ NERO 0412', 'SNCF PARIS'];
  const base = Date.parse('2022-01-01T00:00:00Z');
  const tx = ['id,model,user_id,currency,amount,date,type,is_debit,description'];
  const rw = ['id,amount,available,reason,createdAt,updatedAt,rebate_rate,fiat_amount_rewarded,currency,reference_type,reference_id,type'];
  for (let i = 0; i < rows; i += 1) {
    const at = base + Math.floor(random() * 3 * 365 * 86_400_000);
    const amount = 100 + Math.floor(random() * 20_000);
    const merchant = merchants[i % merchants.length];
    tx.push(`t-${i},card_transaction,u1,${i % 10 === 0 ? 'EUR' : 'GBP'},-${amount},${new Date(at).toISOString().replace('Z', '+00:00')},PURCHASE,true,${merchant}`);
    const ref = random() < 0.05 ? `missing-${i}` : `t-${Math.floor(random() * rows)}`;
    const perk = i % 50 === 0;
    const fiat = perk ? '10.00' : ((amount / 100) * 0.03).toFixed(4);
    const created = new Date(at + 86_400_000).toISOString();
    const updated = new Date(at + 46 * 86_400_000).toISOString();
    const id = random() < 0.01 && i > 0 ? `r-${i - 1}` : `r-${i}`;
    rw.push(`${id},${(Number(fiat) / 4.2).toFixed(6)},${i % 3 === 0},${i % 40 === 0 ? 'Rejected by admin' : ''},${created},${updated},${perk ? 0 : 0.03},${fiat},GBP,card_transaction,${ref},${perk ? 'PERK' : 'REBATE'}`);
  }
  writeFileSync(join(dir, 'transactions.csv'), tx.join('\n') + '\n');
  writeFileSync(join(dir, 'rewards.csv'), rw.join('\n') + '\n');
}

async function child(rows, dir) {
  const { transformRun } = await import('@org/rewards-transform');
  const transactionsCsv = readFileSync(join(dir, 'transactions.csv'), 'utf8');
  const rewardsCsv = readFileSync(join(dir, 'rewards.csv'), 'utf8');
  const phases = {};
  const started = performance.now();
  const output = transformRun({ transactionsCsv, rewardsCsv, onPhase: (phase, ms) => (phases[phase] = ms) });
  const ours = performance.now() - started;
  for (const [name, bytes] of Object.entries(output.parquet)) writeFileSync(join(dir, `ours-${name}.parquet`), bytes);
  const ourPeakMb = process.resourceUsage().maxRSS / 1024;

  const { DuckDBInstance } = await import('@duckdb/node-api');
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
  const check = await connection.runAndReadAll(`SELECT (SELECT count(*) FROM read_parquet('${join(dir, 'ours-reward_facts.parquet')}'))::INT AS ours, (SELECT count(*) FROM read_parquet('${join(dir, 'duck-reward_facts.parquet')}'))::INT AS duck`);
  console.log(JSON.stringify({ rows, phases, ours, ourPeakMb, duck, factRows: check.getRowObjectsJson()[0] }));
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4]);
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('rewards-transform: CSV -> rules -> Parquet (3 datasets), N transactions x N rewards; reference: DuckDB, same process');
  console.log('rows      | parse  | clean  | dedupe | join   | parquet | total s | peak RSS MB | DuckDB s | ratio');
  const results = [];
  for (const rows of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'transform-bench-'));
    try {
      syntheticCsv(rows, dir);
      const out = execFileSync(process.execPath, ['--max-old-space-size=4096', self, '--child', String(rows), dir], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').at(-1));
      results.push(r);
      const s = (ms) => (ms / 1000).toFixed(2).padStart(6);
      console.log(`${String(rows).padEnd(9)} | ${s(r.phases.parse)} | ${s(r.phases.clean)} | ${s(r.phases.dedupe)} | ${s(r.phases.join)} | ${s(r.phases.parquet)}  | ${s(r.ours)}  | ${r.ourPeakMb.toFixed(0).padStart(11)} | ${s(r.duck)}   | ${(r.ours / r.duck).toFixed(2)}x`);
      if (r.factRows.ours !== r.factRows.duck) console.log(`  ! fact rows differ: ours ${r.factRows.ours}, DuckDB ${r.factRows.duck}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (results.length >= 2) {
    const [a, b] = results.slice(-2);
    console.log(`growth ${a.rows} -> ${b.rows} rows: time x${(b.ours / a.ours).toFixed(1)} for x${b.rows / a.rows} rows`);
  }
  console.log('targets at 1M x 1M: at most 3x DuckDB time, at most 1.5 GB peak RSS');
}
