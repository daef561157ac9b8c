import type { ObjectStore } from '@org/pipeline';
import { ConfigError, sourceLabel, type RunnerConfig } from './runner-config';

const SOURCE_KEY = 'state/source.json';

interface DataDirSource {
  kind: 'sandbox' | 'plutus';
  label: string;
  since: string;
}

/**
 * A data dir remembers where its rows came from: synthetic sandbox rows must never be merged into a warehouse
 * of real card data (or the reverse) because of an unset variable. A run from the other kind of source is
 * refused unless `--allow-source-change`.
 */
export async function checkDataDirSource(
  store: ObjectStore,
  config: Pick<RunnerConfig, 'source' | 'allowSourceChange'>,
  now: Date,
): Promise<void> {
  const label = sourceLabel(config.source);
  let recorded: DataDirSource | undefined;
  if (await store.exists(SOURCE_KEY)) {
    try {
      recorded = JSON.parse(Buffer.from(await store.get(SOURCE_KEY)).toString('utf8')) as DataDirSource;
    } catch {
      throw new ConfigError(
        `${store.locate(SOURCE_KEY)} cannot be read; it records where this data dir's rows came from. Restore it, or delete it if you are sure.`,
      );
    }
  }
  if (recorded && recorded.kind !== config.source.kind && !config.allowSourceChange) {
    throw new ConfigError(
      `This data dir holds rows from ${recorded.label} (since ${recorded.since}); this run would load rows from ${label}. ` +
        `Use another --data-dir, or pass --allow-source-change if mixing them is really what you want.` +
        (config.source.kind === 'plutus' ? '' : ' (A PLUTUS_* variable that is set, even empty, selects real Plutus.)'),
    );
  }
  if (!recorded || recorded.kind !== config.source.kind) {
    await store.put(
      SOURCE_KEY,
      JSON.stringify({ kind: config.source.kind, label, since: now.toISOString() } satisfies DataDirSource, null, 2),
    );
  }
}
