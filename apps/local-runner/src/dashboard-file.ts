import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDashboardData, renderDashboardHtml } from '@org/dashboard';
import { DuckDbDatabase, DuckDbWarehouse } from '@org/local-adapters';

export const DASHBOARD_FILE = 'dashboard.html';

/** Reads the views of the local warehouse and writes the self-contained dashboard next to it. */
export async function writeDashboard(dataDir: string, warehousePath: string, now: Date): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const database = new DuckDbDatabase(warehousePath);
  try {
    // Views exist once a load has run; on an empty folder, create them (over empty tables) so the page shows its empty state.
    await new DuckDbWarehouse(database, (key) => key).createTablesAndViews();
    const data = await loadDashboardData((sql) => database.query(sql));
    const path = join(dataDir, DASHBOARD_FILE);
    await writeFile(path, await renderDashboardHtml(data, { generatedAt: now, source: warehousePath }));
    return path;
  } finally {
    await database.close();
  }
}
