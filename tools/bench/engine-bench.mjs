// The design record's figure: the hand-written engine of @org/rewards-transform against the baseline one would
// write with maintained parts (csv-parse, the same cleaning rules cell by cell, Arrow JS tableFromArrays and
// tableToIPC, then parquet-wasm), both turning the same raw CSV of both datasets into curated Parquet, at 100k and
// 1M rows each. Each size and variant runs in its own child process, so its peak RSS is its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parse as csvParse } from 'csv-parse/sync';
import { Compression, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm/node';
import { cleanRewards, cleanTransactions, CURATED_SCHEMAS, transformRun } from '@org/rewards-transform';
import { dedupeDataset } from '@org/rewards-transform';
import { syntheticRawCsv } from '../dist/index.js';

const SIZES = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);

/** csv-parse records to the columns the rules take (header trimmed, short rows padded). */
function csvParseColumns(text) {
  const records = csvParse(text, { bom: true, relax_column_count: true, skip_empty_lines: true });
  const header = (records[0] ?? []).map((name) => name.trim());
  const rows = records.slice(1);
  return { header, columns: header.map((_, c) => rows.map((row) => row[c] ?? '')), rowCount: rows.length };
}

/** The curated table as Arrow JS infers it from plain arrays: decimals and instants as doubles, strings as dictionaries. */
function baselineParquet(table, schema) {
  const arrays = {};
  for (const spec of schema) {
    const column = table.columns[spec.name];
    if (column instanceof Float64Array) {
      const divisor = spec.kind === 'decimal' ? 10 ** (spec.scale ?? 0) : 1;
      arrays[spec.name] = column.map((value) => value / divisor);
    } else {
      arrays[spec.name] = column;
    }
  }
  const ipc = tableToIPC(tableFromArrays(arrays), 'stream');
  return writeParquet(WasmTable.fromIPCStream(ipc), new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build());
}

function baseline(transactionsCsv, rewardsCsv) {
  const out = {};
  const transactions = cleanTransactions(csvParseColumns(transactionsCsv));
  const tx = dedupeDataset(transactions.table, 'transactions').table;
  out.transactions = baselineParquet(tx, CURATED_SCHEMAS.transactions);
  const rewards = cleanRewards(csvParseColumns(rewardsCsv));
  const rw = dedupeDataset(rewards.table, 'rewards').table;
  out.rewards = baselineParquet(rw, CURATED_SCHEMAS.rewards);
  return { parquet: out, rows: { transactions: tx.length, rewards: rw.length } };
}

function child(variant, dir) {
  const transactionsCsv = readFileSync(join(dir, 'transactions.csv'), 'utf8');
  const rewardsCsv = readFileSync(join(dir, 'rewards.csv'), 'utf8');
  const started = performance.now();
  let rows;
  let bytes = 0;
  if (variant === 'engine') {
    const output = transformRun({ transactionsCsv, rewardsCsv });
    rows = { transactions: output.quality.transactions.rowsOut, rewards: output.quality.rewards.rowsOut };
    bytes = output.parquet.transactions.length + output.parquet.rewards.length;
  } else {
    const output = baseline(transactionsCsv, rewardsCsv);
    rows = output.rows;
    bytes = output.parquet.transactions.length + output.parquet.rewards.length;
  }
  const ms = performance.now() - started;
  console.log(JSON.stringify({ variant, ms, peakMb: process.resourceUsage().maxRSS / 1024, rows, parquetMb: bytes / 2 ** 20 }));
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4]);
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('engine vs baseline: raw CSV of both datasets to curated Parquet (N transactions + N rewards), each run in its own process');
  console.log(
    'baseline: csv-parse -> the same rules cell by cell (cleanRaw) -> dedupe -> Arrow JS tableFromArrays + tableToIPC -> parquet-wasm',
  );
  console.log('rows      | variant  | time s | peak RSS MB | rows out (tx/rw)    | parquet MB');
  for (const rows of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
    try {
      const { transactionsCsv, rewardsCsv } = syntheticRawCsv(rows);
      writeFileSync(join(dir, 'transactions.csv'), transactionsCsv, { flush: true });
      writeFileSync(join(dir, 'rewards.csv'), rewardsCsv, { flush: true });
      const results = {};
      for (const variant of ['engine', 'baseline']) {
        let result;
        try {
          const out = execFileSync(process.execPath, ['--max-old-space-size=8000', self, '--child', variant, dir], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          result = JSON.parse(out.trim().split('\n').at(-1));
        } catch (error) {
          result = {
            variant,
            failed:
              String(error.stderr ?? error)
                .split('\n')
                .find((line) => /Error|heap/.test(line)) ?? 'failed',
          };
        }
        results[variant] = result;
        console.log(
          result.failed
            ? `${String(rows).padEnd(9)} | ${variant.padEnd(8)} | FAILED: ${result.failed}`
            : `${String(rows).padEnd(9)} | ${variant.padEnd(8)} | ${(result.ms / 1000).toFixed(2).padStart(6)} | ${result.peakMb.toFixed(0).padStart(11)} | ${`${result.rows.transactions}/${result.rows.rewards}`.padStart(19)} | ${result.parquetMb.toFixed(1).padStart(10)}`,
        );
      }
      if (!results.engine.failed && !results.baseline.failed) {
        console.log(
          `${String(rows).padEnd(9)} | baseline / engine: time x${(results.baseline.ms / results.engine.ms).toFixed(2)}, peak RSS x${(results.baseline.peakMb / results.engine.peakMb).toFixed(2)}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
