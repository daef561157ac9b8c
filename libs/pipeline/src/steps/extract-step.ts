import type { InvalidRow, Reward, Transaction } from '@org/plutus-client';
import { RAW_REWARD_COLUMNS, RAW_TRANSACTION_COLUMNS } from '@org/rewards-transform';
import { readCursor, type Cursor } from '../cursor-state';
import { acquireRunLock, lockTakeoverMessage } from '../run-lock';
import { isTransient, RunRequestError, SourceChangedError, TransientError } from '../pipeline-errors';
import type { PipelineContext, RunRef, RunRequest } from '../pipeline-context';
import { openRunManifest, writeManifest, type RunManifest } from '../run-manifest';
import { ChangedRewardIds, checkRewardsBefore, checkSourceBefore, LedgerSummary, monthStartOf, monthWindow } from '../source-check';
import { RawPartWriter } from './raw-part-writer';
import { noteStepDetails, recordStep } from './step-record';

const DAY_MS = 86_400_000;

/**
 * The ports and settings extract uses: the source and the store, and the warehouse only for its count of
 * transactions before the window (the source check), no catalog.
 */
export type ExtractContext = Pick<
  PipelineContext,
  | 'store'
  | 'source'
  | 'warehouse'
  | 'now'
  | 'lookbackDays'
  | 'pageSize'
  | 'concurrency'
  | 'partRows'
  | 'onProgress'
  | 'lockOwner'
  | 'sourceLabel'
>;

/**
 * Pulls this run's window from Plutus and lands it raw: transactions from (cursor - lookback) to now (all on a
 * first run; the given window on a backfill), and the rewards whose updatedAt is past (cursor - lookback),
 * since rewards change state late. Takes the store's run lock first.
 */
export async function extractStep(context: ExtractContext, request: RunRequest): Promise<RunRef> {
  const now = context.now();
  const manifest = openRunManifest({ runId: request.runId, mode: request.mode, now, source: context.sourceLabel });
  // Written before the lock is tried, so even a run turned away by the lock has a manifest saying why.
  await writeManifest(context.store, manifest);

  await recordStep(context, request.runId, 'extract', async (record) => {
    const lock = await acquireRunLock(context.store, request.runId, now, context.lockOwner);
    if (lock.tookOverFrom) context.onProgress?.({ step: 'extract', message: lockTakeoverMessage(lock.tookOverFrom, lock.reason) });
    const cursor = await readCursor(context.store);
    const clamped = clampCursor(cursor, now);
    if (clamped.changed) {
      context.onProgress?.({
        step: 'extract',
        message: `the cursor pointed past now (${cursor.transactionsThrough} / ${cursor.rewardsUpdatedThrough}); clamped to ${now.toISOString()}`,
      });
    }
    const window = extractionWindow(request, clamped.cursor, context.lookbackDays, now);
    record.window = window;
    record.cursorBefore = cursor;
    const transactions = new RawPartWriter<Transaction>(context, record, 'transactions', RAW_TRANSACTION_COLUMNS, context.partRows);
    const rewards = new RawPartWriter<Reward>(context, record, 'rewards', RAW_REWARD_COLUMNS, context.partRows);
    const latest = { transactions: new LatestInstant(), rewards: new LatestInstant() };
    const ledger = { rows: 0, ms: 0 };
    const contract = new SourceContractReport();
    // Rows dated after the run's start are landed and counted, but never move the cursor: one row dated 2099
    // would otherwise freeze every later run's window past all real changes.
    const upperMs = now.getTime();
    const future = { transactions: 0, rewards: 0 };
    const seeUpTo = (latestOf: LatestInstant, instant: string, dataset: 'transactions' | 'rewards') => {
      if (Date.parse(instant) > upperMs) future[dataset] += 1;
      else latestOf.see(instant);
    };
    // Whose rows these are: the accounts the transactions name (one cardholder's export names one).
    const accounts = new Set<string>();
    const seeAccounts = (rows: readonly Partial<Transaction>[]) => {
      for (const row of rows) if (typeof row.user_id === 'string' && row.user_id) accounts.add(row.user_id);
    };
    const pullTransactions = async () => {
      for await (const page of context.source.transactions({
        from: window.transactionsFrom ?? undefined,
        to: window.transactionsTo,
        pageSize: context.pageSize,
        concurrency: context.concurrency,
      })) {
        seeAccounts(page.rows);
        await transactions.add(page.rows);
        // Rows that broke the API's document are landed as they came: transform quarantines them with a reason.
        await transactions.add(page.invalid.map((bad) => bad.row as Transaction));
        contract.note('transactions', page.invalid, page.unknownFields);
        for (const row of page.rows) seeUpTo(latest.transactions, row.date, 'transactions');
        context.onProgress?.({ step: 'extract', dataset: 'transactions', fetched: page.fetchedCount, total: page.totalCount });
      }
    };
    // A backfill month lands the rewards created in that month only: the ledger holds every month's rewards, and
    // landing all those changed since the month began would land most of them again in every month of a long
    // backfill. A row whose creation instant cannot be read is landed (transform quarantines it with a reason).
    const createdFrom = Date.parse(window.transactionsFrom ?? '');
    const createdTo = Date.parse(window.transactionsTo);
    const inBackfillWindow = (row: Pick<Reward, 'createdAt'>) => {
      if (request.mode !== 'backfill') return true;
      const created = Date.parse(row.createdAt ?? '');
      return Number.isNaN(created) || (created >= createdFrom && created <= createdTo);
    };
    let outsideWindow = 0;
    // Incremental runs compare the whole ledger, as it streams by, with the lake's rewards changed before the month
    // the window starts in (`checkRewardsBefore`): a reward that changed outside the window, or was quarantined and
    // then mended at the source without a new updatedAt, is found and landed again.
    const ledgerSummary =
      request.mode === 'incremental' && clamped.cursor.rewardsUpdatedThrough && window.rewardsUpdatedFrom
        ? new LedgerSummary(monthStartOf(window.rewardsUpdatedFrom))
        : undefined;
    const changedIds = new ChangedRewardIds();
    const pullRewards = async () => {
      // A row whose timestamp cannot be read is kept by the client: transform quarantines it with a reason.
      // The API cannot filter the ledger: all of it comes over the wire each run, read as a stream.
      const ledgerStarted = Date.now();
      ledger.rows = await context.source.readRewards(
        {
          changedSince: window.rewardsUpdatedFrom ?? undefined,
          ...(ledgerSummary ? { onLedgerRow: (changedAtMs: number) => ledgerSummary.add(changedAtMs) } : {}),
        },
        async (allRows, details) => {
          const rows = allRows.filter(inBackfillWindow);
          outsideWindow += allRows.length - rows.length;
          if (ledgerSummary) {
            changedIds.add(allRows);
            changedIds.add(details.invalid.map((bad) => bad.row as { id?: unknown }));
          }
          await rewards.add(rows);
          await rewards.add(details.invalid.map((bad) => bad.row as Reward).filter(inBackfillWindow));
          contract.note('rewards', details.invalid, details.unknownFields);
          for (const row of rows) seeUpTo(latest.rewards, row.updatedAt ?? row.createdAt, 'rewards');
        },
        async () => {
          await rewards.restart();
          ledgerSummary?.reset();
          changedIds.reset();
          latest.rewards = new LatestInstant();
          future.rewards = 0;
          outsideWindow = 0;
          contract.forget('rewards');
        },
      );
      ledger.ms = Date.now() - ledgerStarted;
      context.onProgress?.({ step: 'extract', dataset: 'rewards', fetched: rewards.rowCount });
    };
    // The lake against the source before this run's window (a count from each, and months only when they differ)
    // needs nothing this run pulls: it runs beside the pulls, its time hidden by the ledger's.
    const sourceCheck =
      request.mode === 'incremental' && clamped.cursor.transactionsThrough && window.transactionsFrom
        ? checkSourceBefore(context, monthStartOf(window.transactionsFrom))
        : undefined;
    try {
      // The ledger read (the whole ledger, every run: the API cannot filter it) overlaps the transaction pages.
      // All are let finish before a failure is reported, so nothing is still writing after the step ends.
      const outcomes = await Promise.allSettled([pullTransactions(), pullRewards(), ...(sourceCheck ? [sourceCheck] : [])]);
      const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      // The source speaks the shared vocabulary (`transient`, `code`); the state machine retries by name.
      if (isTransient(error) && !(error instanceof TransientError)) {
        throw new TransientError(
          `Plutus failed for a moment (${(error as { code?: string }).code ?? 'no code'}): ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw error;
    }
    record.accounts = [...accounts].sort();
    await refuseAnotherAccount(context, cursor, record.accounts, request.allowSourceChange === true);
    // The lake against the source before this run's window: rows that arrived after the lookback had passed them
    // (or went missing) are found by count, narrowed to months, and those months pulled again (a few per run).
    if (sourceCheck) {
      const check = await sourceCheck;
      record.sourceCheck = check;
      for (const month of check.repulled) {
        const difference = check.months.find((candidate) => candidate.month === month);
        context.onProgress?.({
          step: 'extract',
          message: `the source serves ${difference?.source} transaction(s) dated ${month}, the lake holds ${difference?.lake}: pulling ${month} again`,
        });
        const { start, next } = monthWindow(month);
        for await (const page of context.source.transactions({
          from: start,
          to: new Date(Date.parse(next) - 1).toISOString(),
          pageSize: context.pageSize,
          concurrency: context.concurrency,
        })) {
          await transactions.add(page.rows);
          await transactions.add(page.invalid.map((bad) => bad.row as Transaction));
          contract.note('transactions', page.invalid, page.unknownFields);
        }
      }
      if (check.unchangedSinceLastCheck)
        context.onProgress?.({
          step: 'extract',
          message: `the source serves ${check.source} transaction(s) before ${check.before.slice(0, 7)}, the lake holds ${check.lake}, as at the last check: nothing left to pull; see \`local-runner verify\``,
        });
      if (check.known.length)
        context.onProgress?.({
          step: 'extract',
          message: `${check.known.length} month(s) still differ from the source as they did after being pulled again (${check.known.join(', ')}): see \`local-runner verify\``,
        });
    }
    const rewardParts = await rewards.finish();
    if (ledgerSummary) {
      const check = await checkRewardsBefore(context, ledgerSummary, changedIds);
      record.rewardsCheck = check;
      if (check.repulled.length) {
        for (const month of check.repulled) {
          const difference = check.months.find((candidate) => candidate.month === month);
          context.onProgress?.({
            step: 'extract',
            message: `the rewards ledger holds ${difference?.source.rows} reward(s) last changed in ${month}, the lake ${difference?.lake.rows} (or other versions): landing ${month} again`,
          });
        }
        rewardParts.push(...(await landRewardMonthsAgain(context, record, check.repulled, rewardParts.length, contract)));
      }
      if (check.known.length)
        context.onProgress?.({
          step: 'extract',
          message: `${check.known.length} reward month(s) still differ from the ledger as they did after being landed again (${check.known.join(', ')}): see \`local-runner verify\``,
        });
    }
    record.sourceContract = contract.report();
    record.observed = { transactionsThrough: latest.transactions.value(), rewardsUpdatedThrough: latest.rewards.value() };
    noteStepDetails(record, 'extract', {
      counts: {
        transactions: transactions.rowCount,
        rewards: rewards.rowCount,
        rewards_ledger_rows: ledger.rows,
        rewards_ledger_ms: ledger.ms,
        rewards_created_outside_backfill_month: outsideWindow,
        transactions_dated_in_future: future.transactions,
        rewards_dated_in_future: future.rewards,
        cursor_clamped: clamped.changed ? 1 : 0,
        ...(record.sourceCheck
          ? {
              source_check_source_count: record.sourceCheck.source,
              source_check_lake_count: record.sourceCheck.lake,
              source_months_differing: record.sourceCheck.months.length,
              source_months_repulled: record.sourceCheck.repulled.length,
            }
          : {}),
        ...(record.rewardsCheck
          ? {
              reward_months_differing: record.rewardsCheck.months.length,
              reward_months_repulled: record.rewardsCheck.repulled.length,
            }
          : {}),
        transactions_off_document: contract.count('transactions'),
        rewards_off_document: contract.count('rewards'),
      },
      parts: { transactions: await transactions.finish(), rewards: rewardParts },
    });
  });
  return { runId: request.runId };
}

/**
 * Two cardholders' rows in one warehouse would be added together: a run whose transactions name an account the
 * store's cursor and the warehouse have never held is refused, unless it allows it. The cursor's record is read
 * first; the warehouse is asked only when the run names an account the cursor does not know (a store of an earlier
 * version, or a new account).
 */
async function refuseAnotherAccount(context: ExtractContext, cursor: Cursor, accounts: readonly string[], allowed: boolean): Promise<void> {
  const recorded = new Set(cursor.accounts ?? []);
  const unknown = accounts.filter((account) => !recorded.has(account));
  if (!unknown.length || allowed) return;
  const held = new Set([...recorded, ...(await context.warehouse.accounts())]);
  const stranger = unknown.filter((account) => !held.has(account));
  if (!held.size || !stranger.length) return;
  throw new SourceChangedError(
    `This run's transactions belong to account ${stranger.join(', ')}, but the lake and the warehouse hold rows of account ${[...held].sort().join(', ')} only. ` +
      'Two cardholders in one warehouse would be added together, so nothing of this run is loaded. Point the run at the right source, ' +
      'or, if mixing them is really what you want, run with --allow-source-change (in AWS: {"mode": "incremental", "allowSourceChange": true}).',
  );
}

/**
 * The ledger read a second time, landing every row (valid or not) last changed in `months`: only when the rewards
 * check found months that differ. Its own parts, numbered after the first read's, so a second read cut off and
 * read again drops only what it had landed.
 */
async function landRewardMonthsAgain(
  context: ExtractContext,
  record: RunManifest,
  months: readonly string[],
  firstPart: number,
  contract: SourceContractReport,
): Promise<string[]> {
  const wanted = new Set(months);
  const monthOf = (row: Partial<Reward>) => {
    const changed = Date.parse(String(row.updatedAt ?? row.createdAt));
    return Number.isNaN(changed) ? '' : new Date(changed).toISOString().slice(0, 7);
  };
  const again = new RawPartWriter<Reward>(context, record, 'rewards', RAW_REWARD_COLUMNS, context.partRows, firstPart);
  await context.source.readRewards(
    {},
    async (rows, details) => {
      await again.add(rows.filter((row) => wanted.has(monthOf(row))));
      const invalid = details.invalid.map((bad) => bad.row as Reward).filter((row) => wanted.has(monthOf(row)));
      await again.add(invalid);
      contract.note(
        'rewards',
        details.invalid.filter((bad) => wanted.has(monthOf(bad.row as Reward))),
        {},
      );
    },
    () => again.restart(),
  );
  return again.finish();
}

/** A cursor never trusted past the run's start (a clock gone wrong, a future-dated row from an older version). */
export function clampCursor(cursor: Cursor, now: Date): { cursor: Cursor; changed: boolean } {
  const clamp = (iso: string | null) => (iso !== null && Date.parse(iso) > now.getTime() ? now.toISOString() : iso);
  const next = {
    ...cursor,
    transactionsThrough: clamp(cursor.transactionsThrough),
    rewardsUpdatedThrough: clamp(cursor.rewardsUpdatedThrough),
  };
  return {
    cursor: next,
    changed: next.transactionsThrough !== cursor.transactionsThrough || next.rewardsUpdatedThrough !== cursor.rewardsUpdatedThrough,
  };
}

function extractionWindow(request: RunRequest, cursor: Cursor, lookbackDays: number, now: Date): RunManifest['window'] {
  const back = (iso: string | null) => (iso === null ? null : new Date(Date.parse(iso) - lookbackDays * DAY_MS).toISOString());
  if (request.mode === 'backfill') {
    return {
      transactionsFrom: requireDate(request.from, 'from'),
      transactionsTo: requireDate(request.to, 'to', true),
      rewardsUpdatedFrom: requireDate(request.from, 'from'),
      rewardsUpdatedTo: now.toISOString(),
    };
  }
  return {
    transactionsFrom: back(cursor.transactionsThrough),
    transactionsTo: now.toISOString(),
    rewardsUpdatedFrom: back(cursor.rewardsUpdatedThrough),
    rewardsUpdatedTo: now.toISOString(),
  };
}

/**
 * What the source sent that its API document does not allow (rows landed anyway, for transform to quarantine),
 * and fields the document does not know, so that a user sees when the API moved.
 */
class SourceContractReport {
  private readonly problems: Record<'transactions' | 'rewards', Record<string, number>> = { transactions: {}, rewards: {} };
  private readonly unknown: Record<'transactions' | 'rewards', Record<string, number>> = { transactions: {}, rewards: {} };

  note(dataset: 'transactions' | 'rewards', invalid: readonly InvalidRow[], unknownFields: Record<string, number>): void {
    for (const bad of invalid) {
      // "/data/transactions_view/3/amount: must be integer" counts as "/amount: must be integer".
      const field = bad.path.replace(/^(?:\/data\/transactions_view)?\/\d+/, '') || '/';
      const key = `${field}: ${bad.problem}`;
      this.problems[dataset][key] = (this.problems[dataset][key] ?? 0) + 1;
    }
    for (const [field, n] of Object.entries(unknownFields)) this.unknown[dataset][field] = (this.unknown[dataset][field] ?? 0) + n;
  }

  forget(dataset: 'transactions' | 'rewards'): void {
    this.problems[dataset] = {};
    this.unknown[dataset] = {};
  }

  count(dataset: 'transactions' | 'rewards'): number {
    return Object.values(this.problems[dataset]).reduce((a, b) => a + b, 0);
  }

  report(): NonNullable<RunManifest['sourceContract']> {
    return { offDocument: this.problems, unknownFields: this.unknown };
  }
}

/** The latest readable instant seen so far. */
class LatestInstant {
  private best = -Infinity;
  see(instant: string): void {
    const ms = Date.parse(instant);
    if (ms > this.best) this.best = ms;
  }
  value(): string | null {
    return this.best === -Infinity ? null : new Date(this.best).toISOString();
  }
}

/** A date or instant; a bare end date means the end of that day, so `--to 2024-03-31` includes the 31st. */
function requireDate(value: string | undefined, name: string, endOfDay = false): string {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  if (Number.isNaN(ms)) throw new RunRequestError(`backfill needs --${name} as a date (YYYY-MM-DD), got ${value ?? 'nothing'}.`);
  const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(value as string);
  return new Date(endOfDay && bareDate ? ms + DAY_MS - 1 : ms).toISOString();
}
