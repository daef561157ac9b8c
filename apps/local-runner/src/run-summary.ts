import type { RunManifest, StepName } from '@org/pipeline';
import type { RunOutcome } from './run-pipeline';

const STEPS: StepName[] = ['extract', 'transform', 'load', 'catalog', 'commit'];

/** The human summary printed after a run: what each step did and took, and where everything is. */
export function formatRunSummary(outcome: RunOutcome): string {
  const manifest = outcome.manifest;
  const lines: string[] = [];
  lines.push(`${outcome.ok ? 'Run succeeded' : 'Run FAILED'}: ${outcome.runId} in ${(outcome.durationMs / 1000).toFixed(1)} s`);
  lines.push(`source: ${outcome.source}`);
  if (outcome.chunks && outcome.chunks.length > 0) {
    lines.push('');
    lines.push(`backfill: ${outcome.chunks.length} month(s), each a run of its own`);
    const before = outcome.skippedBeforeSource;
    if (before)
      lines.push(
        `skipped: ${before.months} month(s) before the source's first transaction, in ${before.firstMonth} (${before.from}..${before.to}): nothing is dated there`,
      );
    const skipped = outcome.skippedAfterStart;
    if (skipped)
      lines.push(
        `skipped: ${skipped.months} month(s) after this run's start (${skipped.from}..${skipped.to}): nothing can be dated there yet`,
      );
    lines.push(
      table(
        ['run', 'status', 'transactions', 'rewards', 'rejected'],
        outcome.chunks.map((chunk) => [
          chunk.runId,
          chunk.status,
          String(chunk.steps.extract?.counts?.['transactions'] ?? '-'),
          String(chunk.steps.extract?.counts?.['rewards'] ?? '-'),
          String((chunk.quality?.transactions.rejected ?? 0) + (chunk.quality?.rewards.rejected ?? 0)),
        ]),
      ),
    );
  }
  if (manifest?.mode === 'rebuild') {
    const counts = manifest.steps.rebuild?.counts ?? {};
    lines.push('');
    lines.push(
      `rebuilt from ${counts['runs_replayed'] ?? 0} loaded run(s): transactions ${counts['transactions_in_table'] ?? '-'}, rewards ${counts['rewards_in_table'] ?? '-'}, reward_facts ${counts['reward_facts_in_table'] ?? '-'}`,
    );
  } else if (manifest) {
    lines.push('');
    lines.push(
      table(
        ['step', 'status', 'seconds'],
        STEPS.map((step) => {
          const record = manifest.steps[step];
          return [step, record?.status ?? '-', record?.durationMs === undefined ? '-' : (record.durationMs / 1000).toFixed(2)];
        }),
      ),
    );
    const transformed = manifest.steps.transform?.counts ?? {};
    if ((transformed['parts'] ?? 0) > 1)
      lines.push(`transform: ${transformed['parts']} raw parts, ${transformed['parts_at_once'] ?? 1} at a time`);
    lines.push('');
    lines.push(table(['dataset', 'pulled', 'curated', 'rejected', 'duplicates', 'in warehouse'], datasetRows(manifest)));
    const orphans = manifest.steps.load?.counts?.['facts_without_transaction'];
    if (orphans !== undefined)
      lines.push(`rewards without a transaction (in the warehouse): ${orphans} (kept, flagged has_transaction = false)`);
    const extracted = manifest.steps.extract?.counts ?? {};
    const future = (extracted['transactions_dated_in_future'] ?? 0) + (extracted['rewards_dated_in_future'] ?? 0);
    if (future > 0) {
      lines.push(
        `dated after this run started: ${extracted['transactions_dated_in_future'] ?? 0} transactions, ${extracted['rewards_dated_in_future'] ?? 0} rewards (landed and loaded; the cursor does not move past the run's start)`,
      );
    }
    const offDocument = (extracted['transactions_off_document'] ?? 0) + (extracted['rewards_off_document'] ?? 0);
    if (offDocument > 0) {
      const problems = Object.entries(manifest.sourceContract?.offDocument ?? {}).flatMap(([dataset, byProblem]) =>
        Object.entries(byProblem).map(([problem, n]) => `${dataset} ${problem} (${n})`),
      );
      // The transform cleans what it can (a numeric string, say) and quarantines the rest: how many of these it
      // quarantined is its rejected count, not this one.
      const rejected = (manifest.quality?.transactions.rejected ?? 0) + (manifest.quality?.rewards.rejected ?? 0);
      lines.push(
        `rows that broke the API document: ${offDocument}, landed as served (the transform quarantined ${rejected} row(s) in all, each with its reason): ${problems.slice(0, 3).join('; ')}`,
      );
    }
    const unknown = Object.entries(manifest.sourceContract?.unknownFields ?? {}).flatMap(([dataset, fields]) =>
      Object.entries(fields).map(([field, n]) => `${dataset}.${field} (${n})`),
    );
    if (unknown.length) lines.push(`fields the API document does not know (the API moved?): ${unknown.join(', ')}`);
    if (extracted['cursor_clamped']) lines.push(`the cursor pointed past this run's start and was clamped to it: ${manifest.startedAt}`);
    const window = manifest.window;
    lines.push(
      `window: transactions ${window.transactionsFrom ?? 'all'} .. ${window.transactionsTo}; rewards updated since ${window.rewardsUpdatedFrom ?? 'ever'}`,
    );
  }
  lines.push('');
  lines.push(`data:      ${outcome.dataDir}`);
  lines.push(`warehouse: ${outcome.warehousePath}`);
  lines.push(`manifest:  ${outcome.manifestPath ?? '(none could be written)'}`);
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
    [
      'transactions',
      cell(extract['transactions']),
      cell(quality?.transactions.rowsOut),
      cell(quality?.transactions.rejected),
      cell(quality?.transactions.duplicatesRemoved),
      cell(load['transactions_in_table']),
    ],
    [
      'rewards',
      cell(extract['rewards']),
      cell(quality?.rewards.rowsOut),
      cell(quality?.rewards.rejected),
      cell(quality?.rewards.duplicatesRemoved),
      cell(load['rewards_in_table']),
    ],
    ['reward_facts', '-', '-', '-', '-', cell(load['reward_facts_in_table'])],
  ];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
