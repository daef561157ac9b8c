import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbCatalog, DuckDbDatabase, DuckDbDeepVerifier, DuckDbWarehouse } from '@org/local-adapters';
import { verifyPipeline, type ProgressEvent, type VerifyReport } from '@org/pipeline';
import { createRunnerStore } from './object-store-factory';
import { openRunnerSource, WAREHOUSE_FILE } from './run-pipeline';
import type { RunnerConfig } from './runner-config';

/**
 * `local-runner verify`: the data dir's warehouse (opened read-only: verify never blocks or changes it) against its
 * lake, and the lake against the source the runs read. Only `--accept` writes, and only the acknowledged differences.
 */
export async function verifyDataDir(
  config: RunnerConfig,
  onProgress: (event: ProgressEvent) => void,
  now: () => Date = () => new Date(),
): Promise<VerifyReport> {
  const { store, localFile } = createRunnerStore(config);
  const path = join(config.dataDir, WAREHOUSE_FILE);
  // No warehouse file yet: an empty one in memory, which the checks then compare with the lake.
  const database = existsSync(path) ? new DuckDbDatabase(path, { readOnly: true }) : new DuckDbDatabase(':memory:');
  const { source, close } = await openRunnerSource(config, onProgress);
  try {
    return await verifyPipeline(
      {
        store,
        warehouse: new DuckDbWarehouse(database, localFile, { reportingTimeZone: config.timeZone }),
        catalog: new DuckDbCatalog(database, localFile),
        source,
        now,
      },
      { deep: config.deep ? new DuckDbDeepVerifier(database, localFile) : undefined, accept: config.accept },
    );
  } finally {
    await database.close();
    await close();
  }
}

/** The report as a user reads it: one line per check, its problems below it. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`);
    for (const problem of check.problems) lines.push(`        - ${problem}`);
  }
  lines.push(report.ok ? 'verify: everything agrees' : 'verify: differences found (see FAIL above)');
  return lines.join('\n');
}
