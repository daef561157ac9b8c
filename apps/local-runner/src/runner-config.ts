import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { calendarDate, PipelineError } from '@org/pipeline';
import type { PlutusAuth } from '@org/plutus-client';
import type { SandboxFaults } from '@org/plutus-sandbox';
import { checkTimeZone } from '@org/sql-dialect';
import { defaultTransformThreads } from './part-worker-pool';

export type RunnerCommand = 'run' | 'backfill' | 'rebuild' | 'verify' | 'status' | 'dashboard' | 'looker' | 'sandbox' | 'unlock' | 'help';

/** Everything the runner needs, read once from flags and environment, validated, then passed down. */
export interface RunnerConfig {
  command: RunnerCommand;
  dataDir: string;
  json: boolean;
  /** unlock: remove the lock even when its run looks alive. */
  force: boolean;
  /** Load from a source other than the one this data dir was filled from (sandbox and real Plutus never mix by accident). */
  allowSourceChange: boolean;
  /** rebuild: empty the warehouse even when no committed run is found (see RebuildRefusedError). */
  allowEmpty: boolean;
  /** verify: recompute digests from the lake's Parquet and the tables. */
  deep: boolean;
  /** verify: acknowledge the lake-against-source differences it lists. */
  accept: boolean;
  lookbackDays: number;
  /** Rows per raw part: each part is transformed on its own, so memory follows it. Default 100,000. */
  partRows: number;
  /** Raw parts transformed at once, each on a worker thread (1: in this thread). Default: one per core, at most 4. */
  transformThreads: number;
  /** After this many seconds without a progress line, say what the run still waits for. Default 15. */
  heartbeatSeconds: number;
  /** The reporting time zone (IANA name) of the views' months and days and of the dashboard. Default UTC. */
  timeZone: string;
  /** looker: where the LookML project goes, the Looker connection and the warehouse schema it names. */
  looker?: { out: string; connection?: string; schema?: string };
  backfill?: { from: string; to: string };
  /** Real Plutus (or any https host) when credentials are configured; otherwise the embedded sandbox. */
  source:
    | {
        kind: 'sandbox';
        dataset?: string;
        now?: string;
        seed: number;
        months: number;
        /** Where the synthetic history starts, as the data dir recorded it on its first run (else `months` before now). */
        start?: string;
        faults?: SandboxFaults;
      }
    | { kind: 'plutus'; auth: PlutusAuth; baseUrl?: string };
  /** Where objects go: the data folder (default) or an S3 bucket. The warehouse stays local (DuckDB). */
  store: { kind: 'folder' } | S3StoreConfig;
  /** Arguments passed through to the sandbox CLI (`local-runner sandbox ...`). */
  rest: string[];
}

export interface S3StoreConfig {
  kind: 's3';
  bucket: string;
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, s3rver); path-style addressing is used with it. */
  endpoint?: string;
  /** From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set; otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The command line or environment asks for something the runner cannot do; fix the input (never retried). */
export class ConfigError extends PipelineError {}

export const USAGE = `local-runner: the card-rewards pipeline on one machine

Usage:
  local-runner run      [options]                      pull new data, transform, load (incremental)
  local-runner backfill --from YYYY-MM-DD --to YYYY-MM-DD [options]   re-pull a window of dates, a month at a time
  local-runner rebuild  [--data-dir DIR] [--allow-empty]  rebuild the warehouse from the lake (the loaded runs' curated Parquet);
                        refused when no committed run is found but rows were loaded, unless --allow-empty
  local-runner verify   [--data-dir DIR] [--deep] [--accept] [--json]
                        prove the warehouse against the lake and the lake against the source (read-only); exit 1 on
                        any difference. --deep: digests recomputed from the Parquet and the tables; --accept:
                        acknowledge the source differences it lists, so runs and verify go on past them
  local-runner status   [--data-dir DIR] [--json]      cursor, lock and the latest runs
  local-runner dashboard [--data-dir DIR]              write DIR/dashboard.html from the warehouse views
  local-runner looker   [--out DIR] [--connection NAME] [--schema NAME]   write a LookML project (default DIR/looker)
  local-runner unlock   [--data-dir DIR] [--force]     remove a lock left by a crashed run (--force: even a live one)
  local-runner sandbox  [sandbox options]              serve the Plutus sandbox (see plutus-sandbox --help)

Options:
  --data-dir DIR        where objects and the DuckDB warehouse live (default ./.data)
  --lookback-days N     re-pull this many days before the cursor (default 7)
  --part-rows N         rows per raw part, each transformed on its own (default 100000)
  --transform-threads N  raw parts transformed at once, each on a worker thread; 1 runs them in this thread
                        (default: RUNNER_TRANSFORM_THREADS, else one per core, at most 4)
  --heartbeat-seconds N  after N quiet seconds, say what the run still waits for (default 15)
  --time-zone ZONE      the reporting time zone of the views' months and days and of the dashboard, an IANA
                        name such as Europe/London (default: REPORTING_TIME_ZONE, else UTC; never the machine's)
  --sandbox-data DIR    make the embedded sandbox serve DIR/rewards.json + DIR/transactions.json
  --sandbox-now ISO     the embedded sandbox's clock (default: now)
  --sandbox-seed N      seed of the synthetic history (default 42)
  --allow-source-change  load from a source other than the one this data dir was filled from
  --json                machine-readable output

REPORTING_TIME_ZONE   the reporting time zone when --time-zone is not given
RUNNER_TRANSFORM_THREADS  the transform's threads when --transform-threads is not given

An S3 bucket instead of the data folder for objects (the DuckDB warehouse and dashboard stay in --data-dir):
  RUNNER_S3_BUCKET, RUNNER_S3_PREFIX, AWS_REGION, RUNNER_S3_ENDPOINT (S3-compatible servers), AWS credentials

Real Plutus instead of the sandbox (read from the environment, never from flags; any PLUTUS_* variable set,
even empty, means real Plutus, and then its credentials must be complete):
  PLUTUS_ID_TOKEN                                 an id_token copied from your signed-in browser session
  PLUTUS_EMAIL, PLUTUS_PASSWORD, PLUTUS_TOTP_SECRET   where Plutus accepts them without a captcha
  PLUTUS_BASE_URL                                 one base URL for all calls (https, or loopback)`;

export function readRunnerConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): RunnerConfig {
  const [first, ...tail] = argv;
  const command = (first ?? 'run') as RunnerCommand;
  if (first === '--help' || first === '-h') return { ...defaults(cwd), command: 'help' };
  if (!['run', 'backfill', 'rebuild', 'verify', 'status', 'dashboard', 'looker', 'sandbox', 'unlock', 'help'].includes(command)) {
    throw new ConfigError(
      `Unknown command "${first}". Commands: run, backfill, rebuild, verify, status, dashboard, looker, unlock, sandbox.`,
    );
  }
  if (command === 'sandbox') return { ...defaults(cwd), command, rest: tail };
  if (tail.includes('--help') || tail.includes('-h')) return { ...defaults(cwd), command: 'help' };
  let values;
  try {
    values = parseArgs({
      args: [...tail],
      options: {
        'data-dir': { type: 'string' },
        'lookback-days': { type: 'string' },
        'heartbeat-seconds': { type: 'string' },
        'part-rows': { type: 'string' },
        'transform-threads': { type: 'string' },
        'time-zone': { type: 'string' },
        out: { type: 'string' },
        connection: { type: 'string' },
        schema: { type: 'string' },
        'sandbox-data': { type: 'string' },
        'sandbox-now': { type: 'string' },
        'sandbox-seed': { type: 'string' },
        'sandbox-months': { type: 'string' },
        'sandbox-faults': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'allow-source-change': { type: 'boolean', default: false },
        'allow-empty': { type: 'boolean', default: false },
        deep: { type: 'boolean', default: false },
        accept: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  // Plain digits within sane bounds: "", "1e9", "-1" and "7.5" are refused, never read as something else.
  const number = (name: string, text: string | undefined, fallback: number, [min, max]: [number, number]) => {
    if (text === undefined) return fallback;
    const value = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max))
      throw new ConfigError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}.`);
    return value;
  };
  const date = (name: string, text: string | undefined) => {
    try {
      return calendarDate(`--${name}`, text);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  };
  const backfill = command === 'backfill' ? { from: date('from', values.from), to: date('to', values.to) } : undefined;
  if (backfill && backfill.from > backfill.to) throw new ConfigError('--from must not be after --to.');
  if (values['allow-empty'] && command !== 'rebuild') throw new ConfigError('--allow-empty is for rebuild only.');
  if ((values.deep || values.accept) && command !== 'verify') throw new ConfigError('--deep and --accept are for verify only.');
  const sandboxNow = values['sandbox-now'];
  if (sandboxNow !== undefined && !isIsoInstant(sandboxNow)) {
    throw new ConfigError(
      `--sandbox-now must be a date (YYYY-MM-DD) or an ISO instant (2026-06-30T12:00:00Z), got ${JSON.stringify(sandboxNow)}.`,
    );
  }
  if (values['data-dir'] !== undefined && values['data-dir'].trim() === '')
    throw new ConfigError('--data-dir is empty; give a folder (default ./.data).');
  // DuckDB reads "?" in a database path as the start of options (its WAL then lands elsewhere), and
  // "," splits its file search path, which lets the lake views' relative paths travel with the data dir.
  const unusable = [...new Set(resolve(cwd, values['data-dir'] ?? '.data').match(/[?,]/g) ?? [])];
  if (unusable.length)
    throw new ConfigError(
      `--data-dir must not contain ${unusable.map((c) => `"${c}"`).join(' or ')}: DuckDB cannot keep a warehouse under such a path. Choose another folder.`,
    );
  let faults: SandboxFaults | undefined;
  if (values['sandbox-faults']) {
    try {
      faults = JSON.parse(values['sandbox-faults']) as SandboxFaults;
    } catch {
      throw new ConfigError('--sandbox-faults must be JSON, e.g. {"serverError":{"routes":["transactions"]}}.');
    }
  }
  return {
    command,
    dataDir: resolve(cwd, values['data-dir'] ?? '.data'),
    json: values.json ?? false,
    force: values.force ?? false,
    allowSourceChange: values['allow-source-change'] ?? false,
    allowEmpty: values['allow-empty'] ?? false,
    deep: values.deep ?? false,
    accept: values.accept ?? false,
    lookbackDays: number('lookback-days', values['lookback-days'], 7, [0, 3660]),
    partRows: number('part-rows', values['part-rows'], 100_000, [100, 10_000_000]),
    transformThreads: transformThreads(values['transform-threads'], env, number),
    heartbeatSeconds: number('heartbeat-seconds', values['heartbeat-seconds'], 15, [1, 3600]),
    timeZone: reportingTimeZone(values['time-zone'], env),
    ...(command === 'looker'
      ? {
          looker: {
            out: resolve(cwd, values.out ?? join(values['data-dir'] ?? '.data', 'looker')),
            connection: values.connection,
            schema: values.schema,
          },
        }
      : {}),
    backfill,
    // Only the commands that read the source look at its credentials: status or unlock never fail on them.
    source: (PULLS_FROM_SOURCE.includes(command) ? plutusFromEnv(env, values) : undefined) ?? {
      kind: 'sandbox',
      dataset: values['sandbox-data'] ? resolve(cwd, values['sandbox-data']) : undefined,
      now: values['sandbox-now'],
      seed: number('sandbox-seed', values['sandbox-seed'], 42, [0, 2 ** 31 - 1]),
      months: number('sandbox-months', values['sandbox-months'], 36, [1, 1200]),
      faults,
    },
    store: storeFromEnv(env),
    rest: [],
  };
}

function defaults(cwd: string): RunnerConfig {
  return {
    command: 'run',
    dataDir: resolve(cwd, '.data'),
    json: false,
    force: false,
    allowSourceChange: false,
    allowEmpty: false,
    deep: false,
    accept: false,
    lookbackDays: 7,
    partRows: 100_000,
    transformThreads: 1,
    heartbeatSeconds: 15,
    timeZone: 'UTC',
    source: { kind: 'sandbox', seed: 42, months: 36 },
    store: { kind: 'folder' },
    rest: [],
  };
}

/** `--transform-threads`, else `RUNNER_TRANSFORM_THREADS`, else one per core (at most 4). */
function transformThreads(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  number: (name: string, text: string | undefined, fallback: number, range: [number, number]) => number,
): number {
  if (flag !== undefined) return number('transform-threads', flag, 1, [1, 64]);
  const fromEnv = env['RUNNER_TRANSFORM_THREADS']?.trim();
  if (!fromEnv) return defaultTransformThreads();
  const value = /^\d{1,2}$/.test(fromEnv) ? Number(fromEnv) : Number.NaN;
  if (!(value >= 1 && value <= 64)) {
    throw new ConfigError(`RUNNER_TRANSFORM_THREADS must be a whole number from 1 to 64, got ${JSON.stringify(fromEnv)}.`);
  }
  return value;
}

/** `--time-zone`, else `REPORTING_TIME_ZONE`, else UTC: an IANA name both DuckDB and Redshift read alike. */
function reportingTimeZone(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const [name, zone] = flag !== undefined ? ['--time-zone', flag] : ['REPORTING_TIME_ZONE', env['REPORTING_TIME_ZONE'] || 'UTC'];
  try {
    return checkTimeZone(zone);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

function storeFromEnv(env: NodeJS.ProcessEnv): RunnerConfig['store'] {
  const bucket = env['RUNNER_S3_BUCKET'];
  if (!bucket) return { kind: 'folder' };
  const endpoint = env['RUNNER_S3_ENDPOINT'] || undefined;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ConfigError('RUNNER_S3_ENDPOINT is not a URL.');
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !loopback)
      throw new ConfigError(`RUNNER_S3_ENDPOINT must be https (or loopback), got ${redactUrl(endpoint)}.`);
  }
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  return {
    kind: 's3',
    bucket,
    prefix: env['RUNNER_S3_PREFIX'] ?? '',
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'eu-west-2',
    endpoint,
    credentials:
      accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: env['AWS_SESSION_TOKEN'] || undefined } : undefined,
  };
}

/** A real calendar date, or an ISO instant with a UTC offset, whose fields are all in range. */
function isIsoInstant(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  return (
    match[4] === undefined ||
    (Number(match[4]) < 24 && Number(match[5]) < 60 && Number(match[6] ?? 0) < 60 && !Number.isNaN(Date.parse(text)))
  );
}

/** A URL fit to print: no user, password, query or fragment (where credentials and tokens hide). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}${url.pathname === '/' ? '' : url.pathname}${url.search ? '?***' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

const PLUTUS_VARIABLES = ['PLUTUS_ID_TOKEN', 'PLUTUS_EMAIL', 'PLUTUS_PASSWORD', 'PLUTUS_TOTP_SECRET', 'PLUTUS_BASE_URL'] as const;

/**
 * Real Plutus as soon as any PLUTUS_* variable is set, even empty: an unset shell variable must never quietly
 * turn a real run into a sandbox run (synthetic rows would land in a real warehouse). Credentials then must be
 * complete, or it is a usage error naming what is missing.
 */
const PULLS_FROM_SOURCE: readonly RunnerCommand[] = ['run', 'backfill', 'verify', 'rebuild'];

function plutusFromEnv(env: NodeJS.ProcessEnv, flags: Record<string, unknown>): RunnerConfig['source'] | undefined {
  const present = PLUTUS_VARIABLES.filter((name) => env[name] !== undefined);
  if (present.length === 0) return undefined;
  // A sandbox flag beside real credentials is a contradiction: say so rather than let one silently win.
  const sandboxFlags = Object.keys(flags).filter((flag) => flag.startsWith('sandbox-') && flags[flag] !== undefined);
  if (sandboxFlags.length)
    throw new ConfigError(
      `${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set, so this run reads real Plutus, but --${sandboxFlags.join(', --')} ${sandboxFlags.length === 1 ? 'is' : 'are'} for the sandbox. ` +
        'Unset every PLUTUS_* variable to use the sandbox, or drop the --sandbox-* options.',
    );
  const baseUrl = env['PLUTUS_BASE_URL'];
  if (baseUrl !== undefined) {
    if (baseUrl === '') throw new ConfigError("PLUTUS_BASE_URL is set but empty: unset it for Plutus's own hosts, or give a URL.");
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new ConfigError('PLUTUS_BASE_URL is not a URL.');
    }
    if (url.username || url.password)
      throw new ConfigError(
        'PLUTUS_BASE_URL carries a user name or password: give credentials in PLUTUS_ID_TOKEN or PLUTUS_EMAIL/PASSWORD, not in the URL.',
      );
  }
  const idToken = env['PLUTUS_ID_TOKEN'];
  if (idToken !== undefined) {
    if (idToken === '')
      throw new ConfigError(
        'PLUTUS_ID_TOKEN is set but empty: paste the id_token from your signed-in browser session, or unset it to use email, password and TOTP.',
      );
    if (/\s/.test(idToken) || [...idToken].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
      throw new ConfigError('PLUTUS_ID_TOKEN contains a space, line break or control character: paste the id_token again as one line.');
    return { kind: 'plutus', auth: { idToken }, baseUrl };
  }
  const missing = (['PLUTUS_EMAIL', 'PLUTUS_PASSWORD', 'PLUTUS_TOTP_SECRET'] as const).filter((name) => !env[name]);
  if (missing.length) {
    throw new ConfigError(
      `${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set, so this run is for real Plutus, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing or empty. ` +
        'Set PLUTUS_ID_TOKEN, or all of PLUTUS_EMAIL, PLUTUS_PASSWORD and PLUTUS_TOTP_SECRET; unset every PLUTUS_* variable to use the sandbox.',
    );
  }
  if (!/^[A-Z2-7]+=*$/i.test((env['PLUTUS_TOTP_SECRET'] as string).replace(/[\s-]/g, '')))
    throw new ConfigError(
      'PLUTUS_TOTP_SECRET is not base32 (letters A-Z and digits 2-7, as an authenticator app shows the secret when it is set up).',
    );
  return {
    kind: 'plutus',
    auth: {
      email: env['PLUTUS_EMAIL'] as string,
      password: env['PLUTUS_PASSWORD'] as string,
      totpSecret: env['PLUTUS_TOTP_SECRET'] as string,
    },
    baseUrl,
  };
}

/** What a run reads from, as printed and recorded: never a credential. */
export function sourceLabel(source: RunnerConfig['source']): string {
  return source.kind === 'sandbox'
    ? 'sandbox (synthetic)'
    : `Plutus ${source.baseUrl ? redactUrl(source.baseUrl) : 'https://api.plutus.it'}`;
}
