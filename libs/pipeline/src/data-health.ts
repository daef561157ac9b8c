import type { Cursor } from './cursor-state';
import type { RunManifest } from './run-manifest';

/** How fresh and how sound the data is, from the lake's manifests and the cursor: what the dashboard shows. */
export interface DataHealth {
  /** The newest transaction date and reward change loaded (the cursor). */
  newest: { transaction: string | null; rewardUpdate: string | null };
  lastSuccessfulRun: { runId: string; mode: string; finishedAt: string } | null;
  /** What the last load's reconciliation and the last incremental extract's source check found and did. */
  lastReconciliation: {
    runId: string;
    at: string;
    ledgerRuns: number;
    runsReplayed: number;
    factsRederived: boolean;
    sourceMonthsChecked: boolean;
    sourceMonthsDiffering: number;
    monthsRepulled: string[];
    monthsLeftToVerify: string[];
    /** The rewards ledger against the lake (by month of change): months that differed, landed again, left to verify. */
    rewardMonthsDiffering?: number;
    rewardMonthsLanded?: string[];
    rewardMonthsLeftToVerify?: string[];
  } | null;
  /** The last `{"mode": "verify"}` run, when there was one. */
  lastVerification: { runId: string; at: string; ok: boolean; checksFailed: number } | null;
  /** Rows quarantined, by dataset and reason, over every run. */
  quarantined: { dataset: string; reason: string; rows: number }[];
  /** Runs started in the last `days` days, newest first, failed ones included. */
  recentRuns: { runId: string; mode: string; status: string; startedAt: string; transactions: number; rewards: number; error?: string }[];
}

/** The data's health from every manifest of the lake and the cursor; `days` bounds the list of recent runs. */
export function summarizeDataHealth(manifests: readonly RunManifest[], cursor: Cursor, now: Date, days = 30): DataHealth {
  const byStart = [...manifests].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  const succeeded = byStart.find((manifest) => manifest.status === 'succeeded' && manifest.mode !== 'verify');
  const lastLoad = byStart.find((manifest) => manifest.steps.load?.status === 'succeeded' && manifest.steps.load.counts);
  const lastCheck = byStart.find((manifest) => manifest.sourceCheck && manifest.steps.extract?.status === 'succeeded');
  const verification = byStart.find((manifest) => manifest.mode === 'verify' && manifest.verification);
  const quarantined = new Map<string, number>();
  for (const manifest of manifests) {
    for (const dataset of ['transactions', 'rewards'] as const) {
      for (const [reason, rows] of Object.entries(manifest.quality?.[dataset]?.rejectedByReason ?? {})) {
        const key = `${dataset}\u0000${reason}`;
        quarantined.set(key, (quarantined.get(key) ?? 0) + rows);
      }
    }
  }
  const since = now.getTime() - days * 86_400_000;
  const loadCounts = lastLoad?.steps.load?.counts ?? {};
  return {
    newest: { transaction: cursor.transactionsThrough, rewardUpdate: cursor.rewardsUpdatedThrough },
    lastSuccessfulRun: succeeded
      ? { runId: succeeded.runId, mode: succeeded.mode, finishedAt: succeeded.finishedAt ?? succeeded.startedAt }
      : null,
    lastReconciliation: lastLoad
      ? {
          runId: lastLoad.runId,
          at: lastLoad.steps.load?.finishedAt ?? lastLoad.startedAt,
          ledgerRuns: loadCounts['ledger_runs_before'] ?? 0,
          runsReplayed: loadCounts['committed_runs_replayed'] ?? 0,
          factsRederived: (loadCounts['facts_rederived'] ?? 0) > 0,
          sourceMonthsChecked: lastCheck !== undefined,
          sourceMonthsDiffering: lastCheck?.sourceCheck?.months.length ?? 0,
          monthsRepulled: lastCheck?.sourceCheck?.repulled ?? [],
          monthsLeftToVerify: lastCheck?.sourceCheck?.known ?? [],
          ...(lastCheck?.rewardsCheck
            ? {
                rewardMonthsDiffering: lastCheck.rewardsCheck.months.length,
                rewardMonthsLanded: lastCheck.rewardsCheck.repulled,
                rewardMonthsLeftToVerify: lastCheck.rewardsCheck.known,
              }
            : {}),
        }
      : null,
    lastVerification: verification
      ? {
          runId: verification.runId,
          at: verification.finishedAt ?? verification.startedAt,
          ok: verification.verification?.ok ?? false,
          checksFailed: verification.verification?.checks.filter((check) => !check.ok).length ?? 0,
        }
      : null,
    quarantined: [...quarantined.entries()]
      .map(([key, rows]) => {
        const [dataset, reason] = key.split('\u0000');
        return { dataset, reason, rows };
      })
      .sort((a, b) => b.rows - a.rows),
    recentRuns: byStart
      .filter((manifest) => Date.parse(manifest.startedAt) >= since)
      .map((manifest) => ({
        runId: manifest.runId,
        mode: manifest.mode,
        status: manifest.status,
        startedAt: manifest.startedAt,
        transactions: manifest.steps.extract?.counts?.['transactions'] ?? 0,
        rewards: manifest.steps.extract?.counts?.['rewards'] ?? 0,
        ...(manifest.error ? { error: `${manifest.error.step}: ${manifest.error.name}` } : {}),
      })),
  };
}
