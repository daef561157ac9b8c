import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadDashboardData, renderDashboardHtml } from '@org/dashboard';
import { DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';
import { PipelineError, readCursor, readLakeRuns, summarizeDataHealth, type DataHealth, type ObjectStore } from '@org/pipeline';

export const DASHBOARD_FILE = 'dashboard.html';

/** Reads the views of the local warehouse and writes the self-contained dashboard next to it. */
export async function writeDashboard(
  dataDir: string,
  warehousePath: string,
  now: Date,
  health?: DataHealth,
  timeZone = 'UTC',
): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  // Read-only, so a run loading meanwhile is never blocked (nor blocks this: DuckDB then says the file is busy).
  // Before any run there is no warehouse: empty tables and the views in memory give the page's empty state.
  const exists = existsSync(warehousePath);
  const database = exists ? new DuckDbDatabase(warehousePath, { readOnly: true }) : new DuckDbDatabase(':memory:');
  try {
    const warehouse = new DuckDbWarehouse(database, (key) => key, { reportingTimeZone: timeZone });
    if (!exists) await warehouse.createTablesAndViews();
    // The page's months and days are those of the zone asked for now, whatever zone the last load used.
    await warehouse.useTemporaryViews().catch((error: unknown) => {
      if (!/does not exist/.test((error as Error).message)) throw error;
      throw new PipelineError(
        'The warehouse has none of the tables the views read: it was made by an earlier version. Run the pipeline once (npm start, or local-runner run), then the dashboard.',
        { code: 'DASHBOARD_VIEWS_MISSING' },
      );
    });
    const data = await loadDashboardData((sql) => database.query(sql)).catch((error: unknown) => {
      const view = /Table with name (v_\w+) does not exist/.exec((error as Error).message)?.[1];
      if (!view) throw error;
      throw new PipelineError(
        `The warehouse has no view ${view}: it was made by an earlier version, and the views are made by each load. Run the pipeline once (npm start, or local-runner run), then the dashboard.`,
        { code: 'DASHBOARD_VIEWS_MISSING' },
      );
    });
    const path = join(dataDir, DASHBOARD_FILE);
    // The page sits beside the warehouse: named relative to it, no absolute path of this machine in the page.
    await writeFile(
      path,
      await renderDashboardHtml(data, { generatedAt: now, source: relative(dataDir, warehousePath), health, timeZone }),
    );
    return path;
  } finally {
    await database.close();
  }
}

/** The data's health from the lake's manifests and the cursor, for the dashboard (undefined when they cannot be read). */
export async function dataHealthOf(store: ObjectStore, now: Date): Promise<DataHealth | undefined> {
  try {
    const { manifests } = await readLakeRuns(store);
    return summarizeDataHealth(manifests, await readCursor(store), now);
  } catch {
    // A manifest or cursor that cannot be read is reported by status and verify; the charts still render.
    return undefined;
  }
}
