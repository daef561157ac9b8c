import { constants, existsSync } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { lookmlProject, LookmlOptionError } from '@org/dashboard';
import { DuckDbDatabase, WarehouseBusyError } from '@org/local-adapters';
import {
  lockState,
  LockUnreadableError,
  objectLayout,
  PipelineError,
  readCursor,
  readLock,
  readManifest,
  recordFailureStep,
  type LockBody,
  type ProgressEvent,
  type RunManifest,
} from '@org/pipeline';
import { thisProcessAsLockOwner } from './process-lock-owner';
import { runSandboxCli } from '@org/plutus-sandbox';
import { dirname, join } from 'node:path';
import { dataHealthOf, writeDashboard } from './dashboard-file';
import { runPipelineOnce, WAREHOUSE_FILE } from './run-pipeline';
import { formatRunSummary, table } from './run-summary';
import { formatVerifyReport, verifyDataDir } from './verify-data-dir';
import { createRunnerStore } from './object-store-factory';
import { checkDataDirSource, recordedSandboxStart } from './data-dir-source';
import { ConfigError, readRunnerConfig, sourceLabel, USAGE, type RunnerConfig } from './runner-config';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now?: () => Date;
  /**
   * The process's SIGINT/SIGTERM, for a run to stop cleanly on them (the entry point passes the real ones;
   * tests in process pass none). `handler` resolves once the run is closed; the caller then exits.
   */
  onSignal?: (handler: (signal: 'SIGINT' | 'SIGTERM') => Promise<void>) => void;
}

/** System errors a user can act on from the message alone: a busy port, a folder that cannot be written, a full disk. */
const USER_ERROR_CODES = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOENT', 'ENOTDIR', 'EISDIR']);

/**
 * What the entry point prints for an error that reached it: the name and message of an error the pipeline or the
 * sandbox raised on purpose, of a bad option and of a system error a user can act on (no stack trace: the message
 * says what to do); the stack of anything else, which is a bug worth reporting with it.
 */
export function describeFailure(error: unknown): string {
  const failure = error as (Error & { code?: unknown }) | undefined;
  const code = typeof failure?.code === 'string' ? failure.code : '';
  if (code.startsWith('ERR_PARSE_ARGS_')) return `${failure?.message} (--help lists the options)`;
  const deliberate = failure instanceof PipelineError || failure?.name === 'SandboxDatasetError' || failure?.name?.startsWith('Plutus');
  if (deliberate || USER_ERROR_CODES.has(code))
    return `${failure?.name && failure.name !== 'Error' ? `${failure.name}: ` : ''}${failure?.message}`;
  return failure?.stack ?? String(error);
}

/** The CLI as a function returning its exit code: 0 success, 1 a failed run, 2 a usage or setup error. */
export async function runLocalRunnerCli(argv: readonly string[], io: CliIo): Promise<number> {
  // With --json, errors are JSON too (on stdout, where a script reads the outcome).
  const usageError = (message: string): number => {
    if (argv.includes('--json')) io.out(JSON.stringify({ ok: false, exitCode: 2, error: message }));
    else io.err(`local-runner: ${message}`);
    return 2;
  };
  let config: RunnerConfig;
  try {
    config = readRunnerConfig(argv, io.env, io.cwd);
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
  switch (config.command) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'sandbox':
      return runSandboxCli(config.rest, io.out);
    case 'unlock':
      return unlock(config, io);
    case 'status':
      return status(config, io);
    case 'verify':
      return verify(config, io);
    case 'looker': {
      const settings = config.looker ?? { out: join(config.dataDir, 'looker') };
      let project: Record<string, string>;
      try {
        project = lookmlProject({ connection: settings.connection, schema: settings.schema, timeZone: config.timeZone });
      } catch (error) {
        if (error instanceof LookmlOptionError) return usageError(error.message);
        throw error;
      }
      const written: string[] = [];
      for (const [path, text] of Object.entries(project)) {
        const file = join(settings.out, path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text);
        written.push(file);
      }
      io.out(
        config.json
          ? JSON.stringify({ ok: true, out: settings.out, files: written })
          : `looker: ${written.length} files in ${settings.out}`,
      );
      return 0;
    }
    case 'dashboard': {
      try {
        const now = (io.now ?? (() => new Date()))();
        const health = await dataHealthOf(createRunnerStore(config).store, now);
        const path = await writeDashboard(config.dataDir, join(config.dataDir, WAREHOUSE_FILE), now, health, config.timeZone);
        io.out(config.json ? JSON.stringify({ dashboard: path }) : `dashboard: ${path}`);
        return 0;
      } catch (error) {
        if (!(error instanceof WarehouseBusyError)) throw error;
        io.err('local-runner: busy: a run is loading the warehouse; write the dashboard again when it has finished.');
        return 1;
      }
    }
    default: {
      const printer = config.json ? undefined : quietTimeReporter(io.err, config.heartbeatSeconds * 1000);
      const progress = printer?.progress ?? (() => undefined);
      const source = sourceLabel(config.source);
      if (!config.json) io.err(`source: ${source}`);
      io.onSignal?.((signal) => interrupted(config, io, signal));
      try {
        await ensureWritableDataDir(config.dataDir);
        if (config.command !== 'rebuild') {
          const { sandboxStart } = await checkDataDirSource(createRunnerStore(config).store, config, (io.now ?? (() => new Date()))());
          config = withSandboxStart(config, sandboxStart);
        }
      } catch (error) {
        // A dataset folder that cannot be served is a usage error like a wrong option.
        if (error instanceof ConfigError || (error as Error).name === 'SandboxDatasetError') return usageError((error as Error).message);
        // The store could not even be read (a bucket out of reach): nothing ran, so there is no manifest to point to.
        return failed(config, io, `the object store cannot be used (${(error as Error).message.split('\n')[0]}); nothing was run.`);
      }
      try {
        const outcome = await runPipelineOnce(config, progress, io.now);
        if (outcome.ok) {
          const now = (io.now ?? (() => new Date()))();
          const health = await dataHealthOf(createRunnerStore(config).store, now);
          outcome.dashboardPath = await writeDashboard(outcome.dataDir, outcome.warehousePath, now, health, config.timeZone);
        }
        if (config.json) io.out(JSON.stringify(outcome, null, 2));
        else if (outcome.ok) io.out(formatRunSummary(outcome));
        else {
          io.err(formatRunSummary(outcome));
          io.err(
            `local-runner: run ${outcome.runId} failed (${(outcome.failure ?? 'unknown cause').replace(/\.$/, '')}); ${outcome.manifestPath ? `manifest: ${outcome.manifestPath}` : 'no manifest could be written'}`,
          );
        }
        // Rows of another cardholder are a question of configuration, like a wrong option: exit 2, as the data dir's own check.
        if (!outcome.ok && outcome.manifest?.error?.name === 'SourceChangedError') return 2;
        return outcome.ok ? 0 : 1;
      } catch (error) {
        return usageError((error as Error).message);
      } finally {
        printer?.stop();
      }
    }
  }
}

/**
 * The progress printer, and a line after every `quietMs` without one (a slow or throttled source, a long load),
 * saying what it still waits for and since when: a run never looks hung.
 */
function quietTimeReporter(write: (line: string) => void, quietMs: number): { progress: (event: ProgressEvent) => void; stop: () => void } {
  let last = { line: 'starting', at: Date.now() };
  const tracked = (line: string) => {
    last = { line, at: Date.now() };
    write(line);
  };
  const progress = progressPrinter(tracked);
  const timer = setInterval(() => {
    const quiet = Date.now() - last.at;
    if (quiet >= quietMs) write(`still working, ${Math.round(quiet / 1000)} s since: ${last.line}`);
  }, quietMs);
  timer.unref();
  return { progress, stop: () => clearInterval(timer) };
}

/** Progress for long steps on stderr: pages fetched of total, rows transformed, tables loaded. */
function progressPrinter(write: (line: string) => void): (event: ProgressEvent) => void {
  let lastAt = 0;
  return (event) => {
    if ('total' in event) {
      const now = Date.now();
      if (event.fetched < event.total && now - lastAt < 250) return;
      lastAt = now;
      write(`extract: transactions ${event.fetched}/${event.total}`);
    } else if ('dataset' in event && event.step === 'extract') write(`extract: rewards ${event.fetched} changed since the cursor`);
    else if ('rowsOut' in event) write(`transform: ${event.rowsIn} rows in, ${event.rowsOut} curated`);
    else if ('rowsInTable' in event) write(`load: ${event.dataset} now holds ${event.rowsInTable} rows`);
    else if ('message' in event) write(`${event.step}: ${event.message}`);
  };
}

/** The data dir must be a folder this process can write (the warehouse and, for a folder store, every object). */
async function ensureWritableDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
    await access(dataDir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(
      `The data dir ${dataDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): choose a folder you can write with --data-dir.`,
    );
  }
}

/**
 * Ctrl-C or a SIGTERM during a run: the run this process holds the lock for is marked failed ("Interrupted")
 * in its manifest and the lock is freed, so the next run starts without a hand. The warehouse needs nothing:
 * a load cut off is rolled back, as after kill -9; a rebuild cut off leaves the warehouse as it was, and the file
 * it was building beside it is removed here (after kill -9, by the next rebuild).
 */
async function interrupted(config: RunnerConfig, io: CliIo, signal: 'SIGINT' | 'SIGTERM'): Promise<void> {
  const { store } = createRunnerStore(config);
  const lock = await readLock(store).catch(() => undefined);
  if (lock?.pid !== process.pid) {
    io.err(`local-runner: interrupted (${signal}) before a run held the lock; nothing to clean up`);
    return;
  }
  await recordFailureStep(
    { store, now: io.now ?? (() => new Date()) },
    { runId: lock.runId, error: { Error: 'Interrupted', Cause: `stopped by ${signal}` } },
  );
  if (config.command === 'rebuild') {
    const staged = join(config.dataDir, `${WAREHOUSE_FILE}.rebuild`);
    for (const file of [staged, `${staged}.wal`]) await rm(file, { force: true });
  }
  io.err(
    `local-runner: interrupted (${signal}); run ${lock.runId} marked failed and its lock freed; manifest: ${store.locate(objectLayout.manifest(lock.runId))}`,
  );
}

/** The config with the synthetic sandbox's history starting where the data dir recorded it. */
function withSandboxStart(config: RunnerConfig, start: string | undefined): RunnerConfig {
  return start && config.source.kind === 'sandbox' ? { ...config, source: { ...config.source, start } } : config;
}

/** `verify`: exit 0 when every check agrees, 1 on any difference, 2 when it cannot run. */
async function verify(config: RunnerConfig, io: CliIo): Promise<number> {
  try {
    config = withSandboxStart(config, await recordedSandboxStart(createRunnerStore(config).store));
    const report = await verifyDataDir(config, config.json ? () => undefined : progressPrinter(io.err), io.now);
    io.out(config.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof WarehouseBusyError) {
      io.err('local-runner: busy: a run is loading the warehouse; verify again when it has finished.');
      return 1;
    }
    io.err(`local-runner: verify could not run: ${(error as Error).name}: ${(error as Error).message}`);
    return 2;
  }
}

/** Removes the run lock: refused while its run is alive unless --force; an unreadable lock needs --force too. */
async function unlock(config: RunnerConfig, io: CliIo): Promise<number> {
  const { store } = createRunnerStore(config);
  let lock;
  try {
    lock = await readLock(store);
  } catch (error) {
    if (!(error instanceof LockUnreadableError) || !config.force) return failed(config, io, (error as Error).message);
  }
  if (lock && !config.force && lockState(lock, (io.now ?? (() => new Date()))(), thisProcessAsLockOwner()) === 'live') {
    return failed(
      config,
      io,
      `run ${lock.runId} holds the lock and is alive (${lock.pid ? `pid ${lock.pid} on ${lock.host}` : `since ${lock.acquiredAt}`}); ` +
        'removing it would let two runs interleave. Wait for it, stop it, or use `unlock --force` if you are sure it is gone.',
    );
  }
  await store.delete(objectLayout.lock);
  const removed = lock ? { runId: lock.runId, acquiredAt: lock.acquiredAt } : null;
  if (config.json) io.out(JSON.stringify({ ok: true, removed, unreadableRemoved: !lock && config.force }));
  else
    io.out(
      lock
        ? `removed the lock of run ${lock.runId} (taken ${lock.acquiredAt})`
        : config.force
          ? 'removed the unreadable lock'
          : 'no lock was held',
    );
  return 0;
}

/** A command that could not do its work (exit 1): as JSON on stdout with --json, else a line on stderr. */
function failed(config: RunnerConfig, io: CliIo, message: string): number {
  if (config.json) io.out(JSON.stringify({ ok: false, exitCode: 1, error: message }));
  else io.err(`local-runner: ${message}`);
  return 1;
}

async function status(config: RunnerConfig, io: CliIo): Promise<number> {
  const { dataDir, json } = config;
  const { store } = createRunnerStore(config);
  const cursor = await readCursor(store);
  let lock: LockBody | undefined;
  let lockProblem: string | undefined;
  try {
    lock = await readLock(store);
  } catch (error) {
    lockProblem = (error as Error).message;
  }
  const runIds = [...new Set((await store.list(objectLayout.runsPrefix)).map((key) => objectLayout.runIdOfRunsKey(key)))]
    .filter((id): id is string => id !== undefined)
    .sort()
    .slice(-10);
  const now = (io.now ?? (() => new Date()))();
  const owner = thisProcessAsLockOwner();
  const runs = (await Promise.all(runIds.map((runId) => readManifest(store, runId).catch(() => undefined))))
    .filter((manifest): manifest is RunManifest => manifest !== undefined)
    .map((manifest) => {
      // Still "running" with no live lock of its own: the process died (kill -9, power cut) before it could say so.
      const live = lock?.runId === manifest.runId && lockState(lock, now, owner) === 'live';
      return manifest.status === 'running' && !live ? { ...manifest, status: 'abandoned' as RunManifest['status'] } : manifest;
    });
  const tables: Record<string, number> = {};
  let warehouseBusy = false;
  if (existsSync(join(dataDir, WAREHOUSE_FILE))) {
    // Read-only: status never blocks a run, and says so when a run holds the file.
    const database = new DuckDbDatabase(join(dataDir, WAREHOUSE_FILE), { readOnly: true });
    try {
      // Counted, not DuckDB's estimated_size: that one still counts the rows a load replaced.
      const present = await database.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN ('transactions', 'rewards', 'reward_facts') ORDER BY table_name DESC",
      );
      for (const { name } of present)
        tables[name] = Number((await database.query<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM "${name}"`))[0].n);
    } catch (error) {
      if (!(error instanceof WarehouseBusyError)) throw error;
      warehouseBusy = true;
    } finally {
      await database.close();
    }
  }
  if (json) {
    io.out(
      JSON.stringify(
        {
          dataDir,
          cursor,
          lock: lock ?? null,
          lockProblem: lockProblem ?? null,
          tables: warehouseBusy ? null : tables,
          warehouseBusy,
          warehouseMissing: !warehouseBusy && Object.keys(tables).length === 0 && cursor.warehouseRows > 0,
          runs: runs.map((m) => ({ runId: m.runId, status: m.status, startedAt: m.startedAt, error: m.error })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(`data: ${dataDir}`);
  io.out(
    `cursor: transactions through ${cursor.transactionsThrough ?? '(none yet)'}, rewards updated through ${cursor.rewardsUpdatedThrough ?? '(none yet)'}`,
  );
  io.out(
    `lock: ${lockProblem ? `UNREADABLE: ${lockProblem}` : lock ? `held by ${lock.runId} since ${lock.acquiredAt}${lock.pid ? ` (pid ${lock.pid} on ${lock.host})` : ''}` : 'free'}`,
  );
  io.out(
    `warehouse rows: ${
      warehouseBusy
        ? 'busy: a run is loading'
        : Object.keys(tables).length
          ? Object.entries(tables)
              .map(([name, n]) => `${name} ${n}`)
              .join(', ')
          : cursor.warehouseRows > 0
            ? `MISSING: the cursor says run ${cursor.lastCommittedRunId ?? '(unknown)'} left ${cursor.warehouseRows} rows; restore it with \`local-runner rebuild\``
            : '(no warehouse yet)'
    }`,
  );
  if (runs.length) {
    io.out('');
    io.out(
      table(
        ['run', 'status', 'started', 'error'],
        runs.map((m) => [m.runId, m.status, m.startedAt, m.error ? `${m.error.step}: ${m.error.message}` : '']),
      ),
    );
  }
  return 0;
}
