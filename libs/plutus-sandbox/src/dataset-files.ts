import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findSchemaMismatch } from '@org/plutus-client';
import type { SandboxDataset } from './synthetic-history';

export const REWARDS_FILE = 'rewards.json';
export const TRANSACTIONS_FILE = 'transactions.json';

/** Raised when a dataset folder is missing a file or holds rows the API could never have sent. */
export class SandboxDatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxDatasetError';
  }
}

/**
 * Reads a dataset folder (rewards.json: the ledger array; transactions.json: the transactions_view rows) and
 * checks every row against the OpenAPI document, so a replayed export fails early and says where.
 */
export async function loadDataset(source: string | SandboxDataset): Promise<SandboxDataset> {
  const dataset = typeof source === 'string' ? await readDatasetFolder(source) : source;
  const where = typeof source === 'string' ? source : 'the dataset';
  const rewardsMismatch = findSchemaMismatch('Reward', dataset.rewards, { arrayOf: true });
  if (rewardsMismatch) {
    throw new SandboxDatasetError(`${where}: ${REWARDS_FILE} at ${rewardsMismatch.path}: ${rewardsMismatch.problem}.`);
  }
  const transactionsMismatch = findSchemaMismatch('Transaction', dataset.transactions, { arrayOf: true });
  if (transactionsMismatch) {
    throw new SandboxDatasetError(
      `${where}: ${TRANSACTIONS_FILE} at ${transactionsMismatch.path}: ${transactionsMismatch.problem}.`,
    );
  }
  return dataset;
}

async function readDatasetFolder(dir: string): Promise<SandboxDataset> {
  const read = async (name: string) => {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch {
      throw new SandboxDatasetError(`${join(dir, name)} is missing; a dataset folder holds ${REWARDS_FILE} and ${TRANSACTIONS_FILE}.`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new SandboxDatasetError(`${join(dir, name)} is not valid JSON: ${(error as Error).message}`);
    }
  };
  return { rewards: (await read(REWARDS_FILE)) as SandboxDataset['rewards'], transactions: (await read(TRANSACTIONS_FILE)) as SandboxDataset['transactions'] };
}

/** Writes a dataset in the folder format `loadDataset` and `--data` read. */
export async function dumpDataset(dataset: SandboxDataset, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REWARDS_FILE), JSON.stringify(dataset.rewards, null, 1));
  await writeFile(join(dir, TRANSACTIONS_FILE), JSON.stringify(dataset.transactions, null, 1));
}
