import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';
import { WAREHOUSE_FILE } from '../src/run-pipeline';

/** The built CLI, as `npx local-runner` runs it. */
export const BUILT_CLI = join(__dirname, '..', 'dist', 'cli.js');

/**
 * A script (the built CLI by default) as a child process with these arguments, to its end, on the environment of
 * this process without PLUTUS_* variables and INIT_CWD, plus `env`.
 */
export function runCliChild(
  args: readonly string[],
  env: Record<string, string> = {},
  script = BUILT_CLI,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_') && name !== 'INIT_CWD'));
    const child = spawn(process.execPath, [script, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The checksum of each table of a data dir's warehouse (transactions, rewards, reward_facts). */
export async function warehouseChecksums(dataDir: string): Promise<string[]> {
  const database = new DuckDbDatabase(join(dataDir, WAREHOUSE_FILE));
  try {
    const warehouse = new DuckDbWarehouse(database, (key) => key);
    return await Promise.all((['transactions', 'rewards', 'reward_facts'] as const).map((table) => warehouse.tableChecksum(table)));
  } finally {
    await database.close();
  }
}
