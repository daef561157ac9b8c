import { concatTables, parquetToTable, TRANSACTIONS_SCHEMA, transformRun, type Table } from '@org/rewards-transform';
import { objectLayout, runIdOfKey } from '../object-layout';
import type { PipelineContext, RunRef } from '../pipeline-context';
import type { ObjectStore } from '../ports';
import { noteStepDetails, putTracked, recordStep } from './step-record';

/**
 * Applies the rules to this run's raw files: curated Parquet for the three datasets, rejects to quarantine,
 * the quality report into the manifest. Rewards join against every curated transaction of earlier runs too,
 * so a reward whose transaction arrived before still gets its merchant and amount.
 */
export async function transformStep(context: PipelineContext, ref: RunRef): Promise<RunRef> {
  await recordStep(context, ref.runId, 'transform', async (manifest) => {
    const keys = manifest.steps.extract?.keys;
    if (!keys) throw new Error(`Run ${ref.runId} has no extract output; run extract first.`);
    const text = async (key: string) => Buffer.from(await context.store.get(key)).toString('utf8');
    const output = transformRun({
      transactionsCsv: await text(keys['transactions']),
      rewardsCsv: await text(keys['rewards']),
      knownTransactions: await curatedTransactionsOfOtherRuns(context.store, ref.runId),
    });
    const written: Record<string, string> = {};
    for (const dataset of ['transactions', 'rewards', 'reward_facts'] as const) {
      const key = objectLayout.curated(dataset, manifest.ingestDate, ref.runId);
      await putTracked(context, manifest, key, output.parquet[dataset], 'application/vnd.apache.parquet');
      written[dataset] = key;
    }
    for (const dataset of ['transactions', 'rewards'] as const) {
      const key = objectLayout.quarantine(dataset, manifest.ingestDate, ref.runId);
      const rejects = output.rejectsCsv[dataset];
      if (rejects) {
        await putTracked(context, manifest, key, rejects, 'text/csv');
        written[`${dataset}_rejects`] = key;
      } else if (await context.store.exists(key)) {
        // A re-run that rejects nothing must not leave an earlier attempt's rejects behind.
        await context.store.delete(key);
      }
    }
    manifest.quality = output.quality;
    noteStepDetails(manifest, 'transform', {
      keys: written,
      counts: {
        transactions: output.quality.transactions.rowsOut,
        rewards: output.quality.rewards.rowsOut,
        reward_facts: output.quality.reward_facts.rows,
        transactions_rejected: output.quality.transactions.rejected,
        rewards_rejected: output.quality.rewards.rejected,
        rewards_without_transaction: output.quality.reward_facts.rewardsWithoutTransaction,
      },
    });
    context.onProgress?.({
      step: 'transform',
      rowsIn: output.quality.transactions.rowsIn + output.quality.rewards.rowsIn,
      rowsOut: output.quality.transactions.rowsOut + output.quality.rewards.rowsOut,
    });
  });
  return ref;
}

/** Curated transactions of every other run, oldest first (later rows win in the join's de-duplication). */
async function curatedTransactionsOfOtherRuns(store: ObjectStore, runId: string): Promise<Table | undefined> {
  const keys = (await store.list(objectLayout.curatedPrefix('transactions')))
    .filter((key) => key.endsWith('.parquet'))
    .filter((key) => runIdOfKey(key) !== runId)
    .sort((a, b) => ((runIdOfKey(a) ?? '') < (runIdOfKey(b) ?? '') ? -1 : 1));
  let table: Table | undefined;
  for (const key of keys) {
    const part = parquetToTable(await store.get(key), TRANSACTIONS_SCHEMA);
    table = table ? concatTables(table, part) : part;
  }
  return table;
}
