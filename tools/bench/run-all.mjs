// `npm run bench`: every benchmark, one after the other, each printing its figures as it goes; then
// docs/BENCHMARKS.md is written anew with the date, the machine and every figure printed. The benchmarks take the
// environment variables their headers list (BENCH_SIZES, BENCH_HISTORIES, ...). BENCH_ONLY=incremental,transform
// runs some of them (their sections of docs/BENCHMARKS.md are replaced, each dated; the others are kept as they
// were); BENCH_WRITE=0 leaves docs/BENCHMARKS.md as it is.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';

const BENCHES = [
  {
    name: 'client',
    script: 'client-bench.mjs',
    about: 'The Plutus client against the sandbox: pages, the rewards ledger streamed, memory.',
  },
  {
    name: 'transform',
    script: 'transform-bench.mjs',
    about: 'The transform (the rules and the engine) against DuckDB doing the same work in the same process.',
  },
  {
    name: 'engine',
    script: 'engine-bench.mjs',
    about: 'The engine against the baseline it replaced: csv-parse, the rules cell by cell, Arrow JS and parquet-wasm.',
  },
  {
    name: 'fresh-start',
    script: 'fresh-start-bench.mjs',
    about: "The README's first command, `npm ci && npm start`, in a fresh clone with no Nx cache.",
  },
  {
    name: 'incremental',
    script: 'incremental-bench.mjs',
    about:
      "The incremental model at scale: a first load, runs with nothing new and with one new day, on histories of 3k, 300k and 3M transactions; a run's cost follows its rows, not the history.",
  },
];
const only = process.env.BENCH_ONLY?.split(',');
const chosen = BENCHES.filter((bench) => !only || only.includes(bench.name));

/** Runs one benchmark, echoing its output as it comes, and answers all it printed. */
function run(bench) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, bench.script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${bench.script} exited with ${code}`))));
  });
}

const started = new Date();
const target = join(import.meta.dirname, '..', '..', 'docs', 'BENCHMARKS.md');
const heading = (bench) => `## ${bench.name} (\`nx run @org/tools:bench-${bench.name}\`)`;
// The sections already written, by benchmark, for the ones this invocation does not run.
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
const kept = Object.fromEntries(
  BENCHES.map((bench) => {
    const at = previous.indexOf(heading(bench));
    if (at < 0) return [bench.name, undefined];
    const next = previous.indexOf('\n## ', at + 1);
    return [bench.name, previous.slice(at, next < 0 ? undefined : next + 1).trimEnd() + '\n'];
  }),
);
const sections = {};
for (const bench of chosen) {
  const output = await run(bench);
  sections[bench.name] = `${heading(bench)}\n${bench.about}\n\n- run: ${new Date().toISOString()}\n\n\`\`\`\n${output.trim()}\n\`\`\`\n`;
}
if (process.env.BENCH_WRITE !== '0') {
  const settings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .map(([name, value]) => `${name}=${value}`);
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
  const page = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (tools/bench/run-all.mjs); do not edit by hand. Each section is what that benchmark printed.',
    '',
    `- date: ${started.toISOString()}${only ? ` (${only.join(', ')}; the other sections are from earlier runs, each dated or from the date before)` : ''}`,
    `- machine: ${machine}`,
    `- settings: ${settings.length ? settings.join(' ') : 'the defaults'}`,
    '',
    ...BENCHES.map((bench) => sections[bench.name] ?? kept[bench.name]).filter(Boolean),
  ].join('\n');
  writeFileSync(target, page);
  console.log(`wrote ${target}`);
}
