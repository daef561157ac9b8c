import { readManifests } from './lake-runs';
import type { ObjectStore } from './ports';
import { manifestSha256, type RunManifest } from './run-manifest';

/** The manifests of committed runs (their commit step succeeded), in the order they committed: the audit trail. */
export async function chainedRuns(store: ObjectStore, manifests?: readonly RunManifest[]): Promise<RunManifest[]> {
  const all = manifests ?? (await readManifests(store));
  const committedAt = (manifest: RunManifest) => manifest.steps.commit?.finishedAt ?? '';
  return all
    .filter((manifest) => manifest.mode !== 'rebuild' && manifest.steps.commit?.status === 'succeeded')
    .sort((a, b) => (committedAt(a) === committedAt(b) ? (a.runId < b.runId ? -1 : 1) : committedAt(a) < committedAt(b) ? -1 : 1));
}

export interface ChainReport {
  /** Committed manifests whose link to the one before was checked. */
  linksChecked: number;
  /** Committed manifests from before the chain existed (no `chain`): the chain starts after them. */
  unchained: number;
  problems: string[];
}

/**
 * Walks the audit trail: each committed manifest names the committed run before it and the sha256 that
 * manifest had, so an edited manifest fails the next one's hash, a lost one leaves a name pointing at nothing,
 * and a reordered pair names the wrong predecessor. (The last manifest has no successor to vouch for it; the
 * warehouse's ledger, which records each load's digests, checks its figures.) Manifests from before the chain
 * existed start it.
 */
export async function verifyManifestChain(store: ObjectStore, manifests?: readonly RunManifest[]): Promise<ChainReport> {
  const chained = await chainedRuns(store, manifests);
  const known = new Set((manifests ?? chained).map((manifest) => manifest.runId));
  const report: ChainReport = { linksChecked: 0, unchained: 0, problems: [] };
  let started = false;
  for (const [index, manifest] of chained.entries()) {
    if (!manifest.chain) {
      if (started) report.problems.push(`run ${manifest.runId} committed after the chain began but records no link to the run before it`);
      else report.unchained += 1;
      continue;
    }
    started = true;
    report.linksChecked += 1;
    const expected = chained[index - 1]?.runId ?? null;
    const { previousRunId, previousSha256 } = manifest.chain;
    if (previousRunId !== expected) {
      report.problems.push(
        previousRunId !== null && !known.has(previousRunId)
          ? `run ${manifest.runId} follows run ${previousRunId}, whose manifest is gone`
          : `run ${manifest.runId} follows run ${previousRunId ?? '(none)'} in the audit trail, but the committed run before it is ${expected ?? '(none)'}`,
      );
      continue;
    }
    if (previousRunId !== null && previousSha256 !== (await manifestSha256(store, previousRunId))) {
      report.problems.push(`the manifest of run ${previousRunId} changed after run ${manifest.runId} committed (its sha256 differs)`);
    }
  }
  return report;
}
