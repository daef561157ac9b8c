import { MemoryObjectStore } from '../test/memory-object-store';
import { EMPTY_CURSOR } from './cursor-state';
import type { LoadedRun } from './lake-runs';
import { verifyManifestChain } from './manifest-chain';
import { compareWarehouseWithLake, type ComparisonInput } from './reconcile';
import { manifestSha256, openRunManifest, writeManifest, type RunManifest } from './run-manifest';
import type { LedgerEntry } from './warehouse-ledger';

const run = (runId: string, minute: number): LoadedRun => ({
  runId,
  ingestDate: '2026-01-01',
  loadedAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
  parts: { transactions: [`curated/transactions/run=${runId}/part-00000.parquet`], rewards: [] },
});

const entry = (runId: string, seq: number, inTable = { transactions: seq * 10, rewards: seq * 5, reward_facts: seq * 5 }): LedgerEntry => ({
  runId,
  seq,
  loadedAt: '2026-01-01T00:00:00.000Z',
  loaded: { transactions: { rows: 10, digest: '1' }, rewards: { rows: 5, digest: '2' } },
  inTable,
  coversEarlier: false,
});

const committed = [run('r1', 1), run('r2', 2), run('r3', 3)];

function compare(overrides: Partial<ComparisonInput>) {
  return compareWarehouseWithLake({
    committed,
    loadable: new Set(committed.map((r) => r.runId)),
    ledger: [entry('r1', 1), entry('r2', 2), entry('r3', 3)],
    counts: { transactions: 30, rewards: 15, reward_facts: 15 },
    cursor: { ...EMPTY_CURSOR, lastCommittedRunId: 'r3', warehouseRows: 45 },
    ...overrides,
  });
}

describe('the warehouse against the lake', () => {
  it('agrees when the ledger lists every committed run and the tables hold what the last entry recorded', () => {
    expect(compare({})).toEqual({ problems: [], replay: [], rederiveFacts: false, unrecordedLoads: [], lost: false });
  });

  it('replays, in order, the committed runs after the last one a restored warehouse holds', () => {
    const result = compare({ ledger: [entry('r1', 1)], counts: { transactions: 10, rewards: 5, reward_facts: 5 } });
    expect(result.problems).toEqual([]);
    expect(result.replay.map((r) => r.runId)).toEqual(['r2', 'r3']);
  });

  it('refuses tables whose rows differ from their ledger, and a run missing between loaded ones', () => {
    expect(compare({ counts: { transactions: 30, rewards: 14, reward_facts: 15 } }).problems).toEqual([
      expect.stringMatching(/^rewards: 14 rows in the table, but its ledger recorded 15 after its last load \(run r3\)/),
    ]);
    expect(compare({ ledger: [entry('r1', 1), entry('r3', 2, { transactions: 30, rewards: 15, reward_facts: 15 })] }).problems).toEqual([
      'committed run(s) r2 are not in the warehouse, though later ones are',
    ]);
  });

  it('derives the facts again when only reward_facts differs from its ledger', () => {
    const result = compare({ counts: { transactions: 30, rewards: 15, reward_facts: 0 } });
    expect(result).toMatchObject({ problems: [], rederiveFacts: true, replay: [] });
  });

  it('refuses a run the lake has no record of (another store), and completes a manifest whose load committed unrecorded', () => {
    const foreign = compare({
      ledger: [entry('r1', 1), entry('r2', 2), entry('r3', 3), entry('elsewhere', 4, { transactions: 30, rewards: 15, reward_facts: 15 })],
    });
    expect(foreign.problems).toEqual([
      expect.stringContaining('the warehouse holds run elsewhere, which the lake has no committed run of'),
    ]);
    const crashed = compare({
      ledger: [entry('r1', 1), entry('r2', 2), entry('r3', 3), entry('r4', 4, { transactions: 30, rewards: 15, reward_facts: 15 })],
      loadable: new Set(['r1', 'r2', 'r3', 'r4']),
    });
    expect(crashed.problems).toEqual([]);
    expect(crashed.unrecordedLoads.map((e) => e.runId)).toEqual(['r4']);
    // The run being loaded again after that crash is neither.
    const again = compare({
      ledger: crashed.unrecordedLoads.length
        ? [entry('r1', 1), entry('r2', 2), entry('r3', 3), entry('r4', 4, { transactions: 30, rewards: 15, reward_facts: 15 })]
        : [],
      loadable: new Set(['r1', 'r2', 'r3', 'r4']),
      currentRunId: 'r4',
    });
    expect(again).toMatchObject({ problems: [], unrecordedLoads: [] });
  });

  it('an empty warehouse: lost when the cursor says rows were loaded, else the committed runs are replayed', () => {
    const empty = { transactions: 0, rewards: 0, reward_facts: 0 };
    expect(compare({ ledger: [], counts: empty }).lost).toBe(true);
    expect(compare({ ledger: [], counts: empty, cursor: EMPTY_CURSOR }).replay.map((r) => r.runId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('adopts a warehouse of an earlier version (no ledger) only when its rows agree with the cursor', () => {
    expect(compare({ ledger: [] }).adopt).toBe('r3');
    expect(compare({ ledger: [], counts: { transactions: 29, rewards: 15, reward_facts: 15 } }).problems).toEqual([
      expect.stringContaining('the warehouse holds 44 rows but no ledger'),
    ]);
    // An adopted entry stands for every committed run up to it.
    const adopted = {
      ...entry('r2', 1, { transactions: 20, rewards: 10, reward_facts: 10 }),
      coversEarlier: true,
      loaded: { transactions: null, rewards: null },
    };
    expect(compare({ ledger: [adopted], counts: { transactions: 20, rewards: 10, reward_facts: 10 } }).replay.map((r) => r.runId)).toEqual([
      'r3',
    ]);
  });
});

describe('the audit trail of committed manifests', () => {
  async function committedManifest(store: MemoryObjectStore, runId: string, minute: number, chain?: RunManifest['chain']) {
    const manifest = openRunManifest({ runId, mode: 'incremental', now: new Date(`2026-01-01T00:${minute}:00Z`) });
    manifest.status = 'succeeded';
    manifest.steps.commit = { status: 'succeeded', startedAt: manifest.startedAt, finishedAt: `2026-01-01T00:${minute}:30.000Z` };
    if (chain) manifest.chain = chain;
    await writeManifest(store, manifest);
  }

  async function chainOfThree() {
    const store = new MemoryObjectStore();
    await committedManifest(store, 'r1', 10);
    await committedManifest(store, 'r2', 20, { previousRunId: 'r1', previousSha256: await manifestSha256(store, 'r1') });
    await committedManifest(store, 'r3', 30, { previousRunId: 'r2', previousSha256: await manifestSha256(store, 'r2') });
    return store;
  }

  it('holds for untouched manifests; the unchained first one starts it', async () => {
    expect(await verifyManifestChain(await chainOfThree())).toEqual({ linksChecked: 2, unchained: 1, problems: [] });
  });

  it('finds an edited, a lost and a reordered manifest', async () => {
    const edited = await chainOfThree();
    const text = Buffer.from(await edited.get('runs/r2/manifest.json')).toString('utf8');
    await edited.put('runs/r2/manifest.json', text.replace('"incremental"', '"backfill"'));
    expect((await verifyManifestChain(edited)).problems).toEqual([
      'the manifest of run r2 changed after run r3 committed (its sha256 differs)',
    ]);

    const lost = await chainOfThree();
    await lost.delete('runs/r2/manifest.json');
    expect((await verifyManifestChain(lost)).problems).toEqual(['run r3 follows run r2, whose manifest is gone']);

    const reordered = await chainOfThree();
    const r1 = JSON.parse(Buffer.from(await reordered.get('runs/r1/manifest.json')).toString('utf8')) as RunManifest;
    const committed = r1.steps.commit;
    if (!committed) throw new Error('chainOfThree commits run r1');
    r1.steps.commit = { ...committed, finishedAt: '2026-01-01T00:25:00.000Z' };
    await reordered.put('runs/r1/manifest.json', JSON.stringify(r1, null, 2));
    expect((await verifyManifestChain(reordered)).problems).toEqual(
      expect.arrayContaining(['run r2 follows run r1 in the audit trail, but the committed run before it is (none)']),
    );
  });
});
