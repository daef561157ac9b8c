import type { Reward, RewardsQuery, Transaction, TransactionsPage, TransactionsQuery } from '@org/plutus-client';
import { MemoryObjectStore } from '../../test/memory-object-store';
import { readCursor, writeCursor, EMPTY_CURSOR } from '../cursor-state';
import { LedgerSummary } from '../source-check';
import type { PipelineContext } from '../pipeline-context';
import type { LoadResult, PartTransformer, RewardsSource, RunLoad, Warehouse } from '../ports';
import { readManifest } from '../run-manifest';
import { VerificationFailedError, WarehouseLostError } from '../pipeline-errors';
import { objectLayout } from '../object-layout';
import { verifyStep } from './verify-step';
import type { LedgerEntry } from '../warehouse-ledger';
import { extractStep } from './extract-step';
import { loadStep } from './load-step';
import { IN_PROCESS_PART_TRANSFORMER, transformStep } from './transform-step';
import { commitStep, recordFailureStep } from './commit-step';
import { catalogStep } from './catalog-step';

const transaction = (i: number): Transaction => ({
  id: `t${i}`,
  currency: 'GBP',
  amount: -100 * (i + 1),
  date: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  description: `SHOP ${i}`,
});
const reward = (i: number, extra: Partial<Reward> = {}): Reward => ({
  id: `r${i}`,
  amount: 0.1,
  createdAt: new Date(Date.UTC(2026, 0, 2 + i)).toISOString(),
  updatedAt: new Date(Date.UTC(2026, 0, 2 + i)).toISOString(),
  rebate_rate: 0.03,
  reference_id: `t${i}`,
  ...extra,
});

/** A source serving fixed rows; `cutOnce` breaks the first ledger read part-way, as a dropped connection would. */
function fixedSource(
  transactions: Transaction[],
  rewards: Reward[],
  options: { cutOnce?: boolean } = {},
): RewardsSource & { queries: RewardsQuery[]; ledgerRows: Reward[] } {
  let cut = options.cutOnce ?? false;
  const queries: RewardsQuery[] = [];
  return {
    queries,
    ledgerRows: rewards,
    async *transactions(query?: TransactionsQuery): AsyncGenerator<TransactionsPage> {
      const size = query?.pageSize ?? 4;
      for (let offset = 0; offset < transactions.length; offset += size) {
        const rows = transactions.slice(offset, offset + size);
        yield {
          pageIndex: offset / size,
          offset,
          rows,
          invalid: [],
          unknownFields: {},
          totalCount: transactions.length,
          fetchedCount: offset + rows.length,
        };
      }
    },
    async readRewards(query, onRows, onRestart) {
      queries.push(query);
      for (const row of rewards) query.onLedgerRow?.(Date.parse(row.updatedAt ?? row.createdAt));
      const since = query.changedSince === undefined ? -Infinity : Date.parse(String(query.changedSince));
      const kept = rewards.filter((row) => Date.parse(row.updatedAt ?? row.createdAt) >= since);
      if (cut) {
        cut = false;
        await onRows(kept.slice(0, 6), { invalid: [], unknownFields: {} }); // enough for a part to be written before the break
        await onRestart?.();
      }
      for (let at = 0; at < kept.length; at += 2) await onRows(kept.slice(at, at + 2), { invalid: [], unknownFields: {} });
      return rewards.length;
    },
  };
}

/** A warehouse that records what it was asked to load, each load adding one of each row, with a ledger. */
function recordingWarehouse(): Warehouse & { loads: RunLoad[]; lose(): void; agreeWith(rewards: Reward[]): void } {
  const loads: RunLoad[] = [];
  // The lake's rewards as the ledger has them, unless a test says otherwise: the rewards check then finds nothing.
  let lakeRewards: Reward[] = [];
  let counts = { transactions: 0, rewards: 0, reward_facts: 0 };
  let ledger: LedgerEntry[] = [];
  return {
    loads,
    lose() {
      counts = { transactions: 0, rewards: 0, reward_facts: 0 };
      ledger = [];
    },
    agreeWith(rewards) {
      lakeRewards = rewards;
    },
    async rewardMonthSummary(before, excludeIds = []) {
      const summary = new LedgerSummary(before);
      for (const row of lakeRewards.filter((candidate) => !excludeIds.includes(candidate.id)))
        summary.add(Date.parse(row.updatedAt ?? row.createdAt));
      return summary.months();
    },
    async rewardIdsUpdatedBetween() {
      return [];
    },
    async accounts() {
      return [];
    },
    async loadRun(load, options): Promise<LoadResult> {
      loads.push(load);
      counts = { transactions: counts.transactions + 10, rewards: counts.rewards + 9, reward_facts: counts.reward_facts + 9 };
      const entry: LedgerEntry | undefined = options?.runId
        ? {
            runId: options.runId,
            seq: ledger.length + 1,
            loadedAt: '2026-02-01T00:00:00.000Z',
            loaded: { transactions: { rows: 10, digest: '1' }, rewards: { rows: 9, digest: '2' } },
            inTable: { ...counts },
            coversEarlier: false,
          }
        : undefined;
      if (entry) ledger = [...ledger.filter((e) => e.runId !== entry.runId), entry];
      return { staged: { transactions: 1, rewards: 1 }, inTable: { ...counts }, factsWithoutTransaction: 0, ledger: entry };
    },
    async ledger() {
      return ledger;
    },
    async adoptLedger() {
      throw new Error('not expected');
    },
    async rederiveFacts() {
      return counts.reward_facts;
    },
    async tableCounts() {
      return counts;
    },
    async transactionMonthCounts() {
      return {};
    },
    async monthFigures() {
      return { transactions: {}, rewards: {} };
    },
    async transactionIdsBetween() {
      return [];
    },
    async transactionsDatedBefore() {
      return 0;
    },
    async reset() {
      this.lose();
    },
  };
}

function context(source: RewardsSource, warehouse: Warehouse = recordingWarehouse()): PipelineContext & { store: MemoryObjectStore } {
  if ('agreeWith' in warehouse && 'ledgerRows' in source)
    (warehouse as ReturnType<typeof recordingWarehouse>).agreeWith((source as ReturnType<typeof fixedSource>).ledgerRows);
  return {
    store: new MemoryObjectStore(),
    catalog: { registerPartitions: async () => undefined, listPartitions: async () => [] },
    warehouse,
    source,
    now: () => new Date('2026-02-01T00:00:00Z'),
    lookbackDays: 7,
    pageSize: 4,
    partRows: 5,
  };
}

describe('the steps on an in-memory store', () => {
  it('extract lands rows in parts of at most partRows, as pages arrive, and transform makes one curated part of each', async () => {
    const ctx = context(
      fixedSource(
        Array.from({ length: 12 }, (_, i) => transaction(i)),
        Array.from({ length: 7 }, (_, i) => reward(i)),
      ),
    );
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    let manifest = await readManifest(ctx.store, 'run1');
    expect(manifest.steps.extract?.counts).toMatchObject({
      transactions: 12,
      rewards: 7,
      rewards_ledger_rows: 7,
      rewards_dated_in_future: 0,
      cursor_clamped: 0,
    });
    expect(manifest.steps.extract?.parts?.['transactions']).toEqual(
      [0, 1, 2].map((i) => `raw/transactions/ingest_date=2026-02-01/run=run1/part-0000${i}.csv`),
    );
    expect(manifest.steps.extract?.parts?.['rewards']).toHaveLength(2);
    expect(manifest.observed).toEqual({
      transactionsThrough: '2026-01-12T00:00:00.000Z',
      rewardsUpdatedThrough: '2026-01-08T00:00:00.000Z',
    });

    await transformStep(ctx, { runId: 'run1' });
    manifest = await readManifest(ctx.store, 'run1');
    expect(manifest.steps.transform?.parts?.['transactions']).toEqual(
      [0, 1, 2].map((i) => `curated/transactions/ingest_date=2026-02-01/run=run1/part-0000${i}.parquet`),
    );
    expect(manifest.quality?.transactions).toMatchObject({ rowsIn: 12, rowsOut: 12, rejected: 0 });
    expect(manifest.quality?.rewards).toMatchObject({ rowsIn: 7, rowsOut: 7 });
  });

  it("transform keeps a part transformer's parts in flight, up to its concurrency, and each part in its place whatever order they finish in", async () => {
    const rows = {
      transactions: Array.from({ length: 23 }, (_, i) => transaction(i)),
      rewards: Array.from({ length: 9 }, (_, i) => reward(i)),
    };
    const sequential = context(fixedSource(rows.transactions, rows.rewards));
    await extractStep(sequential, { runId: 'run1', mode: 'incremental' });
    await transformStep(sequential, { runId: 'run1' });

    let inFlight = 0;
    let mostInFlight = 0;
    let calls = 0;
    // Parts finish in reverse: the first one started is the last one done.
    let released = 0;
    const reversing: PartTransformer = {
      concurrency: 3,
      async release() {
        released += 1;
      },
      async transform(dataset, raw, options) {
        const delay = 40 - 5 * calls++;
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
        inFlight -= 1;
        return IN_PROCESS_PART_TRANSFORMER.transform(dataset, raw, options);
      },
    };
    const concurrent = { ...context(fixedSource(rows.transactions, rows.rewards)), partTransformer: reversing };
    await extractStep(concurrent, { runId: 'run1', mode: 'incremental' });
    await transformStep(concurrent, { runId: 'run1' });

    expect(calls).toBe(7); // 5 parts of transactions, 2 of rewards
    expect(released).toBe(1);
    expect(mostInFlight).toBe(3);
    expect((await readManifest(concurrent.store, 'run1')).steps.transform?.counts).toMatchObject({ parts: 7, parts_at_once: 3 });
    const [one, other] = [await readManifest(sequential.store, 'run1'), await readManifest(concurrent.store, 'run1')];
    expect(other.steps.transform?.parts).toEqual(one.steps.transform?.parts);
    expect(other.quality).toEqual(one.quality);
    for (const key of one.steps.transform?.parts?.['transactions'] ?? []) {
      expect(Buffer.from(await concurrent.store.get(key)).equals(Buffer.from(await sequential.store.get(key)))).toBe(true);
    }
  });

  it("transform keeps a run smaller than a part transformer's minRows in its own thread", async () => {
    let calls = 0;
    const large: PartTransformer = {
      concurrency: 2,
      minRows: 33,
      async transform(dataset, raw, options) {
        calls += 1;
        return IN_PROCESS_PART_TRANSFORMER.transform(dataset, raw, options);
      },
    };
    const rows = {
      transactions: Array.from({ length: 23 }, (_, i) => transaction(i)),
      rewards: Array.from({ length: 9 }, (_, i) => reward(i)),
    };
    const ctx = { ...context(fixedSource(rows.transactions, rows.rewards)), partTransformer: large };
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    await transformStep(ctx, { runId: 'run1' });
    expect(calls).toBe(0);
    expect((await readManifest(ctx.store, 'run1')).steps.transform?.counts).toMatchObject({ parts: 7, parts_at_once: 1 });
  });

  it("transform fails with a part's own error, starting no part after it and leaving none running", async () => {
    let started = 0;
    let running = 0;
    let released = 0;
    const failing: PartTransformer = {
      concurrency: 2,
      async release() {
        released += running === 0 ? 1 : 100;
      },
      async transform(dataset, raw, options) {
        const mine = started++;
        running += 1;
        try {
          await new Promise((resolve) => setTimeout(resolve, mine === 1 ? 5 : 30));
          if (mine === 1) throw Object.assign(new Error('rewards: the header has no id column'), { name: 'RawInputError' });
          return await IN_PROCESS_PART_TRANSFORMER.transform(dataset, raw, options);
        } finally {
          running -= 1;
        }
      },
    };
    const ctx = {
      ...context(
        fixedSource(
          Array.from({ length: 23 }, (_, i) => transaction(i)),
          [],
        ),
      ),
      partTransformer: failing,
    };
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    await expect(transformStep(ctx, { runId: 'run1' })).rejects.toMatchObject({ name: 'RawInputError' });
    expect(running).toBe(0);
    expect(started).toBe(2);
    expect(released).toBe(1); // once, after every part in flight had ended
    // The failure path (recordFailureStep) marks the step failed; nothing the step wrote is counted as done.
    expect((await readManifest(ctx.store, 'run1')).steps.transform).toMatchObject({ status: 'running' });
  });

  it('a ledger read that broke off and restarted lands each reward once', async () => {
    const ctx = context(
      fixedSource(
        [transaction(0)],
        Array.from({ length: 6 }, (_, i) => reward(i)),
        { cutOnce: true },
      ),
    );
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    const manifest = await readManifest(ctx.store, 'run1');
    expect(manifest.steps.extract?.counts?.['rewards']).toBe(6);
    const text = (
      await Promise.all(
        (manifest.steps.extract?.parts?.['rewards'] ?? []).map(async (key) => Buffer.from(await ctx.store.get(key)).toString()),
      )
    ).join('');
    expect(text.match(/^r\d,/gm)).toEqual(['r0,', 'r1,', 'r2,', 'r3,', 'r4,', 'r5,']);
    expect(Object.keys(manifest.checksums).filter((key) => key.startsWith('raw/rewards/'))).toHaveLength(2);
  });

  it('a source error that says it is transient becomes TransientError (retried by name); a permanent one passes as it is', async () => {
    // Any package's error of the shared vocabulary: the core reads `transient`, it imports no client class.
    class SourceHiccup extends Error {
      readonly code = 'SOURCE_HICCUP';
      constructor(readonly transient: boolean) {
        super('the source failed');
        this.name = 'SourceHiccup';
      }
    }
    const failing = (transient: boolean): RewardsSource => ({
      transactions: async function* () {
        yield* [];
        throw new SourceHiccup(transient);
      },
      readRewards: async () => 0,
    });
    const hiccup = extractStep(context(failing(true)), { runId: 'run1', mode: 'incremental' });
    await expect(hiccup).rejects.toMatchObject({
      name: 'TransientError',
      code: 'TRANSIENT',
      transient: true,
      message: expect.stringContaining('SOURCE_HICCUP'),
    });
    await expect(hiccup.catch((error: Error) => error.cause)).resolves.toBeInstanceOf(SourceHiccup);
    await expect(extractStep(context(failing(false)), { runId: 'run2', mode: 'incremental' })).rejects.toMatchObject({
      name: 'SourceHiccup',
      transient: false,
    });
  });

  it('a step run before the one it needs fails with StepOrderError, naming what to run', async () => {
    const ctx = context(fixedSource([], []));
    await expect(transformStep(ctx, { runId: 'never-extracted' })).rejects.toMatchObject({ name: 'ObjectNotFoundError' });
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    await expect(commitStep(ctx, { runId: 'run1' })).rejects.toMatchObject({
      name: 'StepOrderError',
      code: 'STEP_ORDER',
      message: expect.stringContaining('Run load first'),
    });
  });

  it('asks the source only for rewards changed since the cursor minus the lookback', async () => {
    const source = fixedSource([], []);
    const ctx = context(source);
    await writeCursor(ctx.store, {
      ...EMPTY_CURSOR,
      transactionsThrough: '2026-01-20T00:00:00.000Z',
      rewardsUpdatedThrough: '2026-01-20T00:00:00.000Z',
    });
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    expect(source.queries).toEqual([{ changedSince: '2026-01-13T00:00:00.000Z', onLedgerRow: expect.any(Function) }]);
  });

  it('compares the whole rewards ledger with the lake before the window: a month that differs is landed again once, then left to verify', async () => {
    // December's rewards changed long before the window; the lake lacks r1 (quarantined once, say) and holds r2 at an older version.
    const december = (i: number, day: number) =>
      reward(i, { createdAt: `2025-12-0${day}T10:00:00.000Z`, updatedAt: `2025-12-0${day}T10:00:00.000Z` });
    const ledger = [december(1, 1), december(2, 3), reward(9)];
    const source = fixedSource([], ledger);
    const warehouse = recordingWarehouse();
    const ctx = context(source, warehouse);
    warehouse.agreeWith([{ ...december(2, 2) }, reward(9)]);
    await writeCursor(ctx.store, {
      ...EMPTY_CURSOR,
      transactionsThrough: '2026-01-20T00:00:00.000Z',
      rewardsUpdatedThrough: '2026-01-20T00:00:00.000Z',
    });
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    const manifest = await readManifest(ctx.store, 'run1');
    expect(manifest.rewardsCheck).toMatchObject({ before: '2026-01-01T00:00:00.000Z', repulled: ['2025-12'], known: [] });
    expect(manifest.rewardsCheck?.months).toEqual([
      { month: '2025-12', source: { rows: 2, seconds: expect.any(Number) }, lake: { rows: 1, seconds: expect.any(Number) } },
    ]);
    // The second ledger read lands December's two rows, in a part of its own after the window's.
    const parts = manifest.steps.extract?.parts?.['rewards'] ?? [];
    expect(parts).toHaveLength(2);
    const landed = Buffer.from(await ctx.store.get(parts[1])).toString('utf8');
    expect(landed).toContain('r1,');
    expect(landed).toContain('r2,');
    expect(landed).not.toContain('r9,');
    expect(source.queries.at(-1)).toEqual({});

    // Committed: the same difference in the next run (r1 quarantined again) is known, not landed again.
    await loadStep(ctx, await transformStep(ctx, { runId: 'run1' }));
    await catalogStep(ctx, { runId: 'run1' });
    await commitStep(ctx, { runId: 'run1' });
    const before = source.queries.length;
    await extractStep(ctx, { runId: 'run2', mode: 'incremental' });
    expect((await readManifest(ctx.store, 'run2')).rewardsCheck).toMatchObject({ repulled: [], known: ['2025-12'] });
    expect(source.queries.length - before).toBe(1);
  });

  it("refuses a run whose transactions name another account than the store's and the warehouse's, unless it allows it", async () => {
    const ofAccount = (user: string, i: number) => ({ ...transaction(i), user_id: user });
    const ctx = context(fixedSource([ofAccount('alice', 1)], []));
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    expect((await readManifest(ctx.store, 'run1')).accounts).toEqual(['alice']);
    await loadStep(ctx, await transformStep(ctx, { runId: 'run1' }));
    await catalogStep(ctx, { runId: 'run1' });
    await commitStep(ctx, { runId: 'run1' });
    expect((await readCursor(ctx.store)).accounts).toEqual(['alice']);

    const bob = { ...ctx, source: fixedSource([ofAccount('bob', 2)], []) };
    await expect(extractStep(bob, { runId: 'run2', mode: 'incremental' })).rejects.toMatchObject({
      name: 'SourceChangedError',
      message: expect.stringMatching(/account bob, but the lake and the warehouse hold rows of account alice only.*--allow-source-change/),
    });
    await recordFailureStep(bob, { runId: 'run2' });
    await extractStep(bob, { runId: 'run3', mode: 'incremental', allowSourceChange: true });
    await loadStep(bob, await transformStep(bob, { runId: 'run3' }));
    await catalogStep(bob, { runId: 'run3' });
    await commitStep(bob, { runId: 'run3' });
    expect((await readCursor(ctx.store)).accounts).toEqual(['alice', 'bob']);
  });

  it('a reward the source changed in the window is no difference: the lake still holds its older version, which this run replaces', async () => {
    // r5 was last changed in December as the lake holds it; the source changed it again on 25 January (in the window).
    const inDecember = reward(5, { createdAt: '2025-12-05T10:00:00.000Z', updatedAt: '2025-12-05T10:00:00.000Z' });
    const source = fixedSource([], [{ ...inDecember, updatedAt: '2026-01-25T10:00:00.000Z', available: true }]);
    const warehouse = recordingWarehouse();
    const ctx = context(source, warehouse);
    warehouse.agreeWith([inDecember]);
    await writeCursor(ctx.store, {
      ...EMPTY_CURSOR,
      transactionsThrough: '2026-01-20T00:00:00.000Z',
      rewardsUpdatedThrough: '2026-01-20T00:00:00.000Z',
    });
    await extractStep(ctx, { runId: 'run1', mode: 'incremental' });
    expect((await readManifest(ctx.store, 'run1')).rewardsCheck).toMatchObject({ months: [], repulled: [] });
    expect(source.queries).toHaveLength(1);
  });

  it('load hands the warehouse every curated part, and refuses a warehouse that lost committed rows', async () => {
    const warehouse = recordingWarehouse();
    const ctx = context(
      fixedSource(
        Array.from({ length: 12 }, (_, i) => transaction(i)),
        [reward(0)],
      ),
      warehouse,
    );
    await transformStep(ctx, await extractStep(ctx, { runId: 'run1', mode: 'incremental' }));
    await loadStep(ctx, { runId: 'run1' });
    expect(warehouse.loads[0].transactions).toHaveLength(3);
    expect(warehouse.loads[0].rewards).toHaveLength(1);
    await catalogStep(ctx, { runId: 'run1' });
    await commitStep(ctx, { runId: 'run1' });
    expect(await readCursor(ctx.store)).toMatchObject({
      lastCommittedRunId: 'run1',
      warehouseRows: 19,
      transactionsThrough: '2026-01-12T00:00:00.000Z',
    });

    expect((await readManifest(ctx.store, 'run1')).steps.load?.digests).toEqual({ transactions: '1', rewards: '2' });

    // The warehouse is now empty (deleted), although run1 committed 19 rows.
    warehouse.lose();
    await transformStep(ctx, await extractStep(ctx, { runId: 'run2', mode: 'incremental' }));
    await expect(loadStep(ctx, { runId: 'run2' })).rejects.toBeInstanceOf(WarehouseLostError);
    expect(warehouse.loads).toHaveLength(1);
  });

  it('a row dated after the run started is landed and counted, and never moves the cursor; a cursor past now is clamped', async () => {
    const ctx = context(fixedSource([transaction(1)], [reward(1), reward(2, { updatedAt: '2099-01-01T00:00:00Z' })]));
    await writeCursor(ctx.store, { ...EMPTY_CURSOR, rewardsUpdatedThrough: '2030-06-01T00:00:00.000Z' });
    await transformStep(ctx, await extractStep(ctx, { runId: 'run1', mode: 'incremental' }));
    const manifest = await readManifest(ctx.store, 'run1');
    expect(manifest.steps.extract?.counts).toMatchObject({ rewards: 1, rewards_dated_in_future: 1, cursor_clamped: 1 });
    // The window starts from the clamped cursor (now - lookback), not from 2030.
    expect(manifest.window.rewardsUpdatedFrom).toBe('2026-01-25T00:00:00.000Z');
    expect(manifest.observed.rewardsUpdatedThrough).toBeNull();
    await loadStep(ctx, { runId: 'run1' });
    await commitStep(ctx, { runId: 'run1' });
    expect((await readCursor(ctx.store)).rewardsUpdatedThrough).toBe('2026-02-01T00:00:00.000Z');
  });

  it('commit of a backfill leaves the incremental cursor where it was', async () => {
    const ctx = context(fixedSource([transaction(3)], [reward(3)]));
    await transformStep(ctx, await extractStep(ctx, { runId: 'bf', mode: 'backfill', from: '2026-01-01', to: '2026-01-31' }));
    await loadStep(ctx, { runId: 'bf' });
    await commitStep(ctx, { runId: 'bf' });
    expect(await readCursor(ctx.store)).toEqual({ ...EMPTY_CURSOR, lastCommittedRunId: 'bf', warehouseRows: 19 });
  });

  it('verify: a run of its own under the lock; a difference fails it with VerificationFailedError, the report in its manifest', async () => {
    const warehouse = recordingWarehouse();
    const ctx = context(fixedSource([transaction(0)], [reward(0)]), warehouse);
    await transformStep(ctx, await extractStep(ctx, { runId: 'run1', mode: 'incremental' }));
    await loadStep(ctx, { runId: 'run1' });
    await catalogStep(ctx, { runId: 'run1' });
    await commitStep(ctx, { runId: 'run1' });
    warehouse.lose();
    await expect(verifyStep(ctx, { runId: 'v1' })).rejects.toBeInstanceOf(VerificationFailedError);
    const manifest = await readManifest(ctx.store, 'v1');
    expect(manifest.mode).toBe('verify');
    expect(manifest.verification?.checks.find((check) => check.name === 'warehouse against lake')).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('the warehouse is empty, but the cursor says 19 rows were loaded')],
    });
    expect(manifest.steps.verify?.counts).toMatchObject({ checks_failed: expect.any(Number) });
    expect(await ctx.store.exists(objectLayout.lock)).toBe(false);
  });
});
