import { createHash } from 'node:crypto';
import type { QualityReport } from '@org/rewards-transform';
import { ManifestUnreadableError } from './pipeline-errors';
import type { RewardsCheckRecord, SourceCheckRecord } from './source-check';
import type { VerifyReport } from './verify';
import { objectLayout } from './object-layout';
import type { ObjectStore } from './ports';
import { EMPTY_CURSOR, type Cursor } from './cursor-state';

export type StepName = 'extract' | 'transform' | 'load' | 'catalog' | 'commit' | 'rebuild' | 'verify';

export interface StepRecord {
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  counts?: Record<string, number>;
  /** Digests of what the step handled, by dataset (`ledgerDigest`: keys at their latest version), as decimal text. */
  digests?: Record<string, string>;
  keys?: Record<string, string>;
  /** Objects written in parts, by dataset (`transactions`, `rewards`, `transactions_rejects`, ...), in order. */
  parts?: Record<string, string[]>;
}

/** A step's parts of one dataset (a manifest from before parts has one key per dataset). */
export function partsOf(record: StepRecord | undefined, name: string): string[] {
  return record?.parts?.[name] ?? (record?.keys?.[name] ? [record.keys[name]] : []);
}

/** Everything about one run: what it pulled, wrote and loaded, how long each step took, and how it ended. */
export interface RunManifest {
  runId: string;
  ingestDate: string;
  mode: 'incremental' | 'backfill' | 'rebuild' | 'verify';
  /** Where the rows came from (`sandbox (synthetic)`, `Plutus https://…`). */
  source?: string;
  /** `abandoned` is never written: `status` shows it for a run left `running` by a process that died. */
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  startedAt: string;
  finishedAt?: string;
  window: { transactionsFrom: string | null; transactionsTo: string; rewardsUpdatedFrom: string | null; rewardsUpdatedTo: string };
  cursorBefore: Cursor;
  /** Latest instants seen in this run's data: the next cursor, once the load succeeded. */
  observed: { transactionsThrough: string | null; rewardsUpdatedThrough: string | null };
  cursorAfter?: Cursor;
  steps: Partial<Record<StepName, StepRecord>>;
  /** sha256 of each object written, by key. */
  checksums: Record<string, string>;
  quality?: QualityReport;
  /**
   * What the source sent against its API document: rows that broke it (landed anyway; transform quarantines
   * them), by field and problem, and fields the document does not know, by name.
   */
  sourceContract?: {
    offDocument: Record<'transactions' | 'rewards', Record<string, number>>;
    unknownFields: Record<'transactions' | 'rewards', Record<string, number>>;
  };
  error?: { step: string; name: string; message: string };
  /** `{"mode": "verify"}`: the report of its checks. */
  verification?: VerifyReport;
  /** Incremental runs: the lake against the source before the run's window, and the months pulled again. */
  sourceCheck?: SourceCheckRecord;
  /** The accounts (`user_id`) the run's transactions name: whose rows it pulled. */
  accounts?: string[];
  /** Incremental runs: the lake's rewards against the ledger streamed, before the window's month, and the months landed again. */
  rewardsCheck?: RewardsCheckRecord;
  /**
   * The audit trail, written at commit: the committed run before this one and the sha256 of its manifest as it
   * was then. An edited, lost or reordered committed manifest breaks the chain (`verifyManifestChain`).
   */
  chain?: { previousRunId: string | null; previousSha256: string | null };
}

export async function readManifest(store: ObjectStore, runId: string): Promise<RunManifest> {
  const text = Buffer.from(await store.get(objectLayout.manifest(runId))).toString('utf8');
  try {
    return JSON.parse(text) as RunManifest;
  } catch (error) {
    throw new ManifestUnreadableError(
      `The manifest ${store.locate(objectLayout.manifest(runId))} is not JSON (${(error as Error).message}). Restore it from a backup; \`local-runner verify\` reports the audit trail.`,
      { cause: error },
    );
  }
}

/** sha256 of a manifest's bytes as stored (what the next committed manifest's `chain` records). */
export async function manifestSha256(store: ObjectStore, runId: string): Promise<string> {
  return createHash('sha256')
    .update(await store.get(objectLayout.manifest(runId)))
    .digest('hex');
}

export async function writeManifest(store: ObjectStore, manifest: RunManifest): Promise<void> {
  await store.put(objectLayout.manifest(manifest.runId), JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
}

/**
 * A run's manifest as it starts: running, its whole window open until the step that plans it narrows it, nothing
 * written yet. Extract and rebuild open every run with it.
 */
export function openRunManifest(run: {
  runId: string;
  mode: RunManifest['mode'];
  now: Date;
  source?: string;
  cursorBefore?: Cursor;
}): RunManifest {
  const now = run.now.toISOString();
  return {
    runId: run.runId,
    ingestDate: now.slice(0, 10),
    mode: run.mode,
    ...(run.source ? { source: run.source } : {}),
    status: 'running',
    startedAt: now,
    window: { transactionsFrom: null, transactionsTo: now, rewardsUpdatedFrom: null, rewardsUpdatedTo: now },
    cursorBefore: run.cursorBefore ?? EMPTY_CURSOR,
    observed: { transactionsThrough: null, rewardsUpdatedThrough: null },
    steps: {},
    checksums: {},
  };
}

/** Marks a run succeeded (with the cursor it left, if any) once its last step has committed. */
export async function closeRunManifest(store: ObjectStore, runId: string, finishedAt: Date, cursorAfter?: Cursor): Promise<void> {
  const manifest = await readManifest(store, runId);
  manifest.status = 'succeeded';
  if (cursorAfter) manifest.cursorAfter = cursorAfter;
  manifest.finishedAt = finishedAt.toISOString();
  await writeManifest(store, manifest);
}
