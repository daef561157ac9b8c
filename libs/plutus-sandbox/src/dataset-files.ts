import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findSchemaMismatch } from '@org/plutus-client/internal';
import type { SandboxDataset } from './synthetic-history';

export const REWARDS_FILE = 'rewards.json';
export const TRANSACTIONS_FILE = 'transactions.json';

/** Raised when a dataset folder is missing a file or holds rows the API could never have sent. */
export class SandboxDatasetError extends Error {
  readonly code = 'SANDBOX_DATASET';
  readonly transient = false;
  constructor(message: string) {
    super(message);
    this.name = 'SandboxDatasetError';
  }
}

/**
 * Reads a dataset folder (rewards.json: the ledger array; transactions.json: the transactions_view rows). Each
 * file must be a JSON array; rows that break the OpenAPI document are served as they are, because real exports
 * have them and the pipeline must cope (`offDocumentRows` counts them, for the sandbox to say so on start).
 */
export async function loadDataset(source: string | SandboxDataset): Promise<SandboxDataset> {
  const dataset = typeof source === 'string' ? await readDatasetFolder(source) : source;
  const where = typeof source === 'string' ? source : 'the dataset';
  for (const [file, rows] of [
    [REWARDS_FILE, dataset.rewards],
    [TRANSACTIONS_FILE, dataset.transactions],
  ] as const) {
    if (!Array.isArray(rows)) throw new SandboxDatasetError(`${where}: ${file} must be a JSON array of rows, as the API answers.`);
  }
  return dataset;
}

/** Rows of a dataset that break the OpenAPI document, per file, with the first problem of each kind. */
export function offDocumentRows(dataset: SandboxDataset): { rewards: number; transactions: number; examples: string[] } {
  const examples: string[] = [];
  const count = (name: 'Reward' | 'Transaction', file: string, rows: readonly unknown[]) =>
    rows.filter((row, index) => {
      const mismatch = findSchemaMismatch(name, row);
      if (mismatch && examples.length < 3) examples.push(`${file} at /${index}${mismatch.path}: ${mismatch.problem}`);
      return mismatch !== undefined;
    }).length;
  return {
    rewards: count('Reward', REWARDS_FILE, dataset.rewards),
    transactions: count('Transaction', TRANSACTIONS_FILE, dataset.transactions),
    examples,
  };
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
  return {
    rewards: (await read(REWARDS_FILE)) as SandboxDataset['rewards'],
    transactions: (await read(TRANSACTIONS_FILE)) as SandboxDataset['transactions'],
  };
}

/** Writes a dataset in the folder format `loadDataset` and `--data` read. */
export async function dumpDataset(dataset: SandboxDataset, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REWARDS_FILE), JSON.stringify(dataset.rewards, null, 1));
  await writeFile(join(dir, TRANSACTIONS_FILE), JSON.stringify(dataset.transactions, null, 1));
}
