import type { RunManifest, StepName } from '@org/pipeline';
import type { RunOutcome } from './run-pipeline';

const STEPS: StepName[] = ['extract', 'transform', 'catalog', 'load', 'commit'];

/** The human summary printed after a run: what each step did and took, and where everything is. */
export function formatRunSummary(outcome: RunOutcome): string {
  const manifest = outcome.manifest;
  const lines: string[] = [];
  lines.push(`${outcome.ok ? 'Run succeeded' : 'Run FAILED'}: ${outcome.runId} in ${(outcome.durationMs / 1000).toFixed(1)} s`);
  if (manifest) {
    lines.push('');
    lines.push(table(['step', 'status', 'seconds'], STEPS.map((step) => {
      const record = manifest.steps[step];
      return [step, record?.status ?? '-', record?.durationMs === undefined ? '-' : (record.durationMs / 1000).toFixed(2)];
    })));
    lines.push('');
    lines.push(table(['dataset', 'pulled', 'curated', 'rejected', 'duplicates', 'in warehouse'], datasetRows(manifest)));
    const orphans = manifest.quality?.reward_facts.rewardsWithoutTransaction;
    if (orphans !== undefined) lines.push(`rewards without a transaction: ${orphans} (kept, flagged has_transaction = false)`);
    const window = manifest.window;
    lines.push(`window: transactions ${window.transactionsFrom ?? 'all'} .. ${window.transactionsTo}; rewards updated since ${window.rewardsUpdatedFrom ?? 'ever'}`);
  }
  lines.push('');
  lines.push(`data:      ${outcome.dataDir}`);
  lines.push(`warehouse: ${outcome.warehousePath}`);
  lines.push(`manifest:  ${outcome.manifestPath}`);
  if (outcome.dashboardPath) lines.push(`dashboard: ${outcome.dashboardPath}`);
  if (!outcome.ok) lines.push(`cause:     ${outcome.failure ?? 'unknown'}`);
  return lines.join('\n');
}

function datasetRows(manifest: RunManifest): string[][] {
  const extract = manifest.steps.extract?.counts ?? {};
  const load = manifest.steps.load?.counts ?? {};
  const quality = manifest.quality;
  const cell = (value: number | undefined) => (value === undefined ? '-' : String(value));
  return [
    ['transactions', cell(extract['transactions']), cell(quality?.transactions.rowsOut), cell(quality?.transactions.rejected), cell(quality?.transactions.duplicatesRemoved), cell(load['transactions_in_table'])],
    ['rewards', cell(extract['rewards']), cell(quality?.rewards.rowsOut), cell(quality?.rewards.rejected), cell(quality?.rewards.duplicatesRemoved), cell(load['rewards_in_table'])],
    ['reward_facts', '-', cell(quality?.reward_facts.rows), '-', '-', cell(load['reward_facts_in_table'])],
  ];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
