import type { ObjectStore } from '@org/pipeline';
import { loadDataset } from '@org/plutus-sandbox';
import { ConfigError, sourceLabel, type RunnerConfig } from './runner-config';

const SOURCE_KEY = 'state/source.json';

interface DataDirSource {
  kind: 'sandbox' | 'plutus';
  label: string;
  /** Whose rows: see `sourceIdentity`. Absent in files written before it was recorded. */
  identity?: string;
  since: string;
  /**
   * The synthetic sandbox: where its history starts. Kept, so the cardholder's history stays the same on every
   * later day (the sandbox would otherwise serve `months` before each day, and older rows would vanish).
   */
  sandboxStart?: string;
}

/**
 * Whose rows a source serves, as far as is known before reading them: the synthetic sandbox by its seed (another
 * seed is another cardholder), a replayed export by the accounts its transactions name (a refreshed export of the
 * same account is the same source), real Plutus as one source.
 */
export async function sourceIdentity(source: RunnerConfig['source']): Promise<string> {
  if (source.kind === 'plutus') return 'Plutus';
  if (!source.dataset) return `the synthetic sandbox, seed ${source.seed}`;
  const { transactions } = await loadDataset(source.dataset);
  const accounts = [
    ...new Set(transactions.map((row) => (row as { user_id?: unknown }).user_id).filter((id) => typeof id === 'string' && id)),
  ];
  return accounts.length ? `an export of account ${accounts.sort().join(', ')}` : UNNAMED_EXPORT;
}

/** An export whose rows name no account (a rewards-only export, say): it can be any account's. */
const UNNAMED_EXPORT = 'an export whose rows name no account';

/** Two identities that may be the same cardholder's rows. */
function sameSource(recorded: string, current: string): boolean {
  const exports = [recorded, current].every((identity) => identity.startsWith('an export'));
  return recorded === current || (exports && (recorded === UNNAMED_EXPORT || current === UNNAMED_EXPORT));
}

/**
 * A data dir remembers where its rows came from: synthetic sandbox rows must never be merged into a warehouse
 * of real card data (or the reverse) because of an unset variable, nor two cardholders' rows into one. A run from
 * another kind of source, or from another identity of the same kind (`sourceIdentity`), is refused unless
 * `--allow-source-change`.
 */
export async function checkDataDirSource(
  store: ObjectStore,
  config: Pick<RunnerConfig, 'source' | 'allowSourceChange'>,
  now: Date,
): Promise<{ sandboxStart?: string }> {
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
  const identity = await sourceIdentity(config.source);
  if (
    recorded &&
    recorded.kind === config.source.kind &&
    recorded.identity &&
    !sameSource(recorded.identity, identity) &&
    !config.allowSourceChange
  ) {
    throw new ConfigError(
      `This data dir holds rows of ${recorded.identity} (since ${recorded.since}); this run would load rows of ${identity}. ` +
        'Two cardholders in one warehouse would be added together. Use another --data-dir, or pass --allow-source-change if mixing them is really what you want.',
    );
  }
  if (recorded && recorded.kind !== config.source.kind && !config.allowSourceChange) {
    throw new ConfigError(
      `This data dir holds rows from ${recorded.label} (since ${recorded.since}); this run would load rows from ${label}. ` +
        `Use another --data-dir, or pass --allow-source-change if mixing them is really what you want.` +
        (config.source.kind === 'plutus' ? '' : ' (A PLUTUS_* variable that is set, even empty, selects real Plutus.)'),
    );
  }
  const synthetic = config.source.kind === 'sandbox' && !config.source.dataset ? config.source : undefined;
  // The earlier of the recorded start and this run's: history never vanishes, and a clock moved back (a run dated
  // in the future, then one on today's clock) still serves this run's months.
  const recordedStart = recorded?.identity === identity ? recorded.sandboxStart : undefined;
  const thisStart = synthetic ? syntheticStart(synthetic.now ?? now.toISOString(), synthetic.months) : undefined;
  const sandboxStart = recordedStart && thisStart && recordedStart < thisStart ? recordedStart : thisStart;
  // The record keeps what is known: an export naming its account replaces one that named none, never the reverse.
  if (
    !recorded ||
    recorded.kind !== config.source.kind ||
    (recorded.identity !== identity && identity !== UNNAMED_EXPORT) ||
    recorded.sandboxStart !== sandboxStart
  ) {
    const since =
      recorded && recorded.kind === config.source.kind && (!recorded.identity || recorded.identity === identity)
        ? recorded.since
        : now.toISOString();
    await store.put(
      SOURCE_KEY,
      JSON.stringify(
        { kind: config.source.kind, label, identity, since, ...(sandboxStart ? { sandboxStart } : {}) } satisfies DataDirSource,
        null,
        2,
      ),
    );
  }
  return sandboxStart ? { sandboxStart } : {};
}

/** Where the synthetic history starts on its first day: `months` before the sandbox's clock. */
function syntheticStart(now: string, months: number): string {
  const start = new Date(now);
  start.setUTCMonth(start.getUTCMonth() - months);
  return start.toISOString();
}

/** The synthetic sandbox's recorded start, for read-only commands (verify). */
export async function recordedSandboxStart(store: ObjectStore): Promise<string | undefined> {
  if (!(await store.exists(SOURCE_KEY))) return undefined;
  try {
    return (JSON.parse(Buffer.from(await store.get(SOURCE_KEY)).toString('utf8')) as DataDirSource).sandboxStart;
  } catch {
    return undefined;
  }
}
