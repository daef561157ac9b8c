import { newRunId, objectLayout } from '../object-layout';
import { RunRequestError } from '../pipeline-errors';
import { STATE_MACHINE_LIMITS } from '../service-limits';
import { monthWindow, sourceTransactionCount } from '../source-check';
import type { ExecutionRequest, PipelineContext, RunPlan, RunRequest } from '../pipeline-context';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The first state of every execution: validates the request, gives a scheduled execution a run id that sorts
 * by start time, and cuts a backfill into calendar months, so that a ten-year backfill runs as 120 small runs
 * (each with its own manifest, lock and load) and never holds ten years in one process.
 */
export function planRun(request: ExecutionRequest, startTime: Date): RunPlan {
  const mode = request.mode ?? 'incremental';
  if (!['incremental', 'backfill', 'rebuild', 'verify'].includes(mode))
    throw new RunRequestError(`mode must be incremental, backfill, rebuild or verify, got ${JSON.stringify(mode)}.`);
  if (request.runId !== undefined && !RUN_ID.test(request.runId)) {
    throw new RunRequestError(
      `runId must be 1-128 letters, digits, '.', '_' or '-' (it becomes part of object keys), got ${JSON.stringify(request.runId)}.`,
    );
  }
  const runId = request.runId ?? newRunId(startTime);
  if (request.allowEmpty !== undefined && (mode !== 'rebuild' || typeof request.allowEmpty !== 'boolean')) {
    throw new RunRequestError(
      `allowEmpty is a boolean, and only for {"mode": "rebuild"}; got ${JSON.stringify(request.allowEmpty)} with mode ${mode}.`,
    );
  }
  if (mode === 'rebuild') return { runId, mode, ...(request.allowEmpty ? { allowEmpty: true } : {}) };
  if (request.accept !== undefined && (mode !== 'verify' || typeof request.accept !== 'boolean')) {
    throw new RunRequestError(
      `accept is a boolean, and only for {"mode": "verify"}; got ${JSON.stringify(request.accept)} with mode ${mode}.`,
    );
  }
  if (mode === 'verify') return { runId, mode, ...(request.accept ? { accept: true } : {}) };
  if (request.allowSourceChange !== undefined && typeof request.allowSourceChange !== 'boolean') {
    throw new RunRequestError(`allowSourceChange is a boolean, got ${JSON.stringify(request.allowSourceChange)}.`);
  }
  const allow = request.allowSourceChange ? { allowSourceChange: true } : {};
  if (mode !== 'backfill') return { runId, mode, ...allow };
  const from = calendarDate('from', request.from);
  const to = calendarDate('to', request.to);
  if (from > to) throw new RunRequestError(`backfill: from (${from}) is after to (${to}).`);
  // Months that begin after the execution started hold nothing yet: skipped, and said so; the last month ends
  // at the start's day.
  const startDay = startTime.toISOString().slice(0, 10);
  if (from > startDay) {
    throw new RunRequestError(
      `backfill: the whole window ${from}..${to} lies after this run's start (${startDay}); nothing can be dated there yet.`,
    );
  }
  const chunks = monthChunks(runId, from, to < startDay ? to : startDay).map((chunk) => ({ ...chunk, ...allow }));
  const nextMonth = new Date(Date.UTC(Number(startDay.slice(0, 4)), Number(startDay.slice(5, 7)), 1)).toISOString().slice(0, 7);
  const skipped =
    to.slice(0, 7) >= nextMonth ? { months: monthsBetween(nextMonth, to.slice(0, 7)), from: nextMonth, to: to.slice(0, 7) } : undefined;
  const plan: RunPlan = { runId, mode, from, to, chunks, ...allow, ...(skipped ? { skippedAfterStart: skipped } : {}) };
  // The plan is Plan's output, and Step Functions carries no state's data past its payload limit.
  const bytes = Buffer.byteLength(JSON.stringify(plan), 'utf8');
  if (bytes > STATE_MACHINE_LIMITS.payloadBytes) {
    const months = plan.chunks?.length ?? 0;
    throw new RunRequestError(
      `backfill ${from}..${to} is ${months} months, and its plan (${bytes} bytes) is over the ${STATE_MACHINE_LIMITS.payloadBytes} bytes Step Functions carries between states. ` +
        `Backfill at most ${Math.floor((months * STATE_MACHINE_LIMITS.payloadBytes) / bytes)} months per execution.`,
    );
  }
  return plan;
}

/**
 * The Plan Task: the state machine hands it the execution's input and start time. Given the source, a backfill
 * skips the months before the source's first transaction (a reward follows its transaction, so nothing of either
 * dataset is there), found with a bounded number of counts.
 */
export async function planStep(
  context: Pick<PipelineContext, 'now'> & Partial<Pick<PipelineContext, 'source'>>,
  input: { request?: ExecutionRequest; startTime?: string },
): Promise<RunPlan> {
  const plan = planRun(input.request ?? {}, input.startTime ? new Date(input.startTime) : context.now());
  if (plan.mode !== 'backfill' || !plan.chunks?.length || !context.source) return plan;
  const months = plan.chunks.map((chunk) => (chunk.from as string).slice(0, 7));
  const firstMonth = await firstSourceMonth({ source: context.source }, months);
  const kept = firstMonth === undefined ? [] : plan.chunks.filter((_, index) => months[index] >= firstMonth);
  if (!kept.length) {
    throw new RunRequestError(
      `backfill: the source serves no transaction dated from ${plan.from} to the end of ${months.at(-1)}, nor before: nothing to backfill.`,
    );
  }
  if (kept.length === plan.chunks.length) return plan;
  const skipped = plan.chunks.length - kept.length;
  return {
    ...plan,
    chunks: kept,
    skippedBeforeSource: { months: skipped, from: months[0], to: months[skipped - 1], firstMonth: firstMonth as string },
  };
}

/**
 * The first of `months` (ascending `YYYY-MM`, one per backfill chunk) in which the source dates a transaction,
 * when none is dated before the first of them; the first month itself when some are; undefined when the source
 * dates none up to the last month's end. One count, then a binary search: about log2(months) more.
 */
export async function firstSourceMonth(context: Pick<PipelineContext, 'source'>, months: readonly string[]): Promise<string | undefined> {
  const countBefore = (before: string) => sourceTransactionCount(context, { before });
  if ((await countBefore(monthWindow(months[0]).start)) > 0) return months[0];
  let low = 0;
  let high = months.length - 1;
  if ((await countBefore(monthWindow(months[high]).next)) === 0) return undefined;
  // Invariant: the source dates a transaction before the end of months[high], none before the start of months[low].
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if ((await countBefore(monthWindow(months[middle]).next)) > 0) high = middle;
    else low = middle + 1;
  }
  return months[low];
}

/** The window cut at month ends: 2024-01-15..2024-03-02 gives 01-15..01-31, 02-01..02-29, 03-01..03-02. */
export function monthChunks(runId: string, from: string, to: string): RunRequest[] {
  const chunks: RunRequest[] = [];
  let start = from;
  while (start <= to) {
    const [year, month] = start.split('-').map(Number);
    const monthEnd = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
    const end = monthEnd < to ? monthEnd : to;
    chunks.push({ runId: objectLayout.chunkRunId(runId, start.slice(0, 7)), mode: 'backfill', from: start, to: end });
    start = new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);
  }
  return chunks;
}

/** A real calendar date in YYYY-MM-DD: 2024-02-30 and "foo 1" are refused, not rolled over or guessed. */
export function calendarDate(name: string, text: string | undefined): string {
  const match = text === undefined ? null : DATE.exec(text);
  const valid = match !== null && new Date(Date.UTC(+match[1], +match[2] - 1, +match[3])).toISOString().slice(0, 10) === text;
  if (!valid)
    throw new RunRequestError(
      `backfill needs ${name} as a calendar date YYYY-MM-DD, got ${text === undefined ? 'nothing' : JSON.stringify(text)}.`,
    );
  return text as string;
}

/** How many calendar months from one YYYY-MM to another, both included. */
function monthsBetween(first: string, last: string): number {
  return (Number(last.slice(0, 4)) - Number(first.slice(0, 4))) * 12 + Number(last.slice(5, 7)) - Number(first.slice(5, 7)) + 1;
}
