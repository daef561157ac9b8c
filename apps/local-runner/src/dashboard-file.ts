import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDashboardData, renderDashboardHtml } from '@org/dashboard';
import { DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';
import { readCursor, readLakeRuns, summarizeDataHealth, type DataHealth, type ObjectStore } from '@org/pipeline';

export const DASHBOARD_FILE = 'dashboard.html';

/** Reads the views of the local warehouse and writes the self-contained dashboard next to it. */
export async function writeDashboard(dataDir: string, warehousePath: string, now: Date, health?: DataHealth): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  // Read-only, so a run loading meanwhile is never blocked (nor blocks this: DuckDB then says the file is busy).
  // Before any run there is no warehouse: empty tables and the views in memory give the page's empty state.
  const exists = existsSync(warehousePath);
  const database = exists ? new DuckDbDatabase(warehousePath, { readOnly: true }) : new DuckDbDatabase(':memory:');
  try {
    if (!exists) await new DuckDbWarehouse(database, (key) => key).createTablesAndViews();
    const data = await loadDashboardData((sql) => database.query(sql));
    const path = join(dataDir, DASHBOARD_FILE);
    await writeFile(path, await renderDashboardHtml(data, { generatedAt: now, source: warehousePath, health }));
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
