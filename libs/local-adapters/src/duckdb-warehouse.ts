import { rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  addMissingColumnsSql,
  presentColumnsSql,
  ledgerEntryOf,
  ledgerRecordSql,
  ledgerAdoptSql,
  ledgerFactsCountSql,
  ledgerSelectSql,
  ledgerTableSql,
  LEDGER_TABLE,
  type LedgerEntry,
  tableCountsSql,
  qualifiedName,
  transactionIdsBetweenSql,
  LEDGER_MONTHS_TABLE,
  ledgerMonthsTableSql,
  ledgerMonthsSelectSql,
  ledgerMonthsOf,
  monthFiguresOf,
  monthFiguresScanSql,
  monthFigureQueries,
  type MonthFigures,
  rewardIdsUpdatedBetweenSql,
  accountsSql,
  type RewardMonthSummary,
  type StagedRebuild,
  type Catalog,
  type LoadResult,
  type PartitionRef,
  type RunLoad,
  type Warehouse,
  type DataHealth,
  PipelineError,
} from '@org/pipeline';
import { viewStatements, ALL_VIEWS, RETIRED_VIEWS, dataHealthRowStatements, dataHealthTableStatements } from '@org/dashboard';
import { checkTimeZone, DUCKDB_DIALECT, quoteIdentifier, quoteLiteral } from '@org/sql-dialect';
import {
  CURATED_SCHEMAS,
  DATASET_KEYS,
  LAKE_DATASETS,
  latestFirstOrderSql,
  rewardFactsSelectSql,
  type CuratedDataset,
  type LakeDataset,
} from '@org/rewards-transform';
import {
  curatedColumnsOf,
  duckdbLoadStatements,
  insertRowsSql,
  moveLegacyTableSql,
  publicViewSql,
  storeTable,
  storeTableSql,
  STORE_SCHEMA,
} from './duckdb-load-plan';

/** The warehouse file is open in another process (DuckDB allows one writer): a run loading, or a SQL client. */
export class WarehouseBusyError extends PipelineError {}

export interface DuckDbWarehouseSettings {
  /** The months and days of the views are this zone's (an IANA name). Default UTC. */
  reportingTimeZone?: string;
}

export interface DuckDbOptions {
  /** Open for reading only (status, dashboard): never takes the writer's lock. */
  readOnly?: boolean;
  /**
   * The most memory DuckDB may take (it spills joins and sorts to disk beyond it; DuckDB's own default is 80%
   * of the machine). Default 512MB. Each load sets its own limit up to this one, from the size of what it loads.
   */
  memoryLimit?: string;
}

const MB = 2 ** 20;

/**
 * DuckDB's memory for one load: a floor for the scans of keys every load does (below it an incremental load into
 * 3M-row tables runs out of memory), plus a quarter of the Parquet it stages, since without a limit its scans fill
 * the buffer pool to the ceiling. A first load streams and spills, so a larger limit would not make it faster.
 */
export function loadMemoryLimitMb(stagedParquetBytes: number, ceilingMb: number): number {
  return Math.round(Math.min(ceilingMb, 128 + stagedParquetBytes / 4 / MB));
}

/**
 * One DuckDB database file, shared by the local warehouse and catalog (DuckDB allows one writer process).
 * Relative file paths in its views resolve against the database's own folder (the data dir), so a copied or
 * moved data dir keeps working.
 */
export class DuckDbDatabase {
  private opened?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;

  constructor(
    readonly path: string,
    private readonly options: DuckDbOptions = {},
  ) {}

  async connect(): Promise<DuckDBConnection> {
    this.opened ??= DuckDBInstance.create(this.path, {
      memory_limit: this.options.memoryLimit ?? '512MB',
      // Loads never depend on row order, and keeping it costs memory on large inserts.
      preserve_insertion_order: 'false',
      ...(this.options.readOnly ? { access_mode: 'READ_ONLY' } : {}),
    })
      .catch((error: unknown) => {
        if (/Could not set lock|Conflicting lock/i.test((error as Error).message)) {
          throw new WarehouseBusyError(
            `The warehouse ${this.path} is open in another process (a run loading, or a SQL client): wait for it to finish, or close that client. (${(error as Error).message.split('\n')[0]})`,
            { cause: error },
          );
        }
        throw error;
      })
      .then(async (instance) => {
        const connection = await instance.connect();
        if (this.path !== ':memory:') await connection.run(`SET file_search_path = ${quoteLiteral(dirname(this.path))}`);
        return { instance, connection };
      });
    return (await this.opened).connection;
  }

  async run(sql: string): Promise<void> {
    await (await this.connect()).run(sql);
  }

  /** The ceiling of DuckDB's memory, in MB. */
  get memoryCeilingMb(): number {
    const match = /^(\d+(?:\.\d+)?)\s*(MB|GB)$/i.exec(this.options.memoryLimit ?? '512MB');
    return match ? Number(match[1]) * (match[2].toUpperCase() === 'GB' ? 1024 : 1) : 512;
  }

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return (await (await this.connect()).runAndReadAll(sql)).getRowObjectsJson() as T[];
  }

  /** Runs `body` in one transaction: committed if it returns, rolled back if it throws. */
  async transaction<T>(body: () => Promise<T>): Promise<T> {
    await this.run('BEGIN TRANSACTION');
    try {
      const result = await body();
      await this.run('COMMIT');
      return result;
    } catch (error) {
      await this.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Another database file with this one's settings (a rebuild made beside it). */
  sibling(path: string): DuckDbDatabase {
    return new DuckDbDatabase(path, this.options);
  }

  /**
   * This database's file replaced by `staged`'s, whole: both checkpointed and closed, this one's write-ahead log
   * removed (DuckDB replays a log found beside a file, and this one's must never meet the new file), then the
   * rename, which is atomic. The next query opens the new file.
   */
  async replaceWith(staged: DuckDbDatabase): Promise<void> {
    await staged.run('CHECKPOINT');
    await staged.close();
    if (this.opened) await this.run('CHECKPOINT');
    await this.close();
    await rm(`${this.path}.wal`, { force: true });
    await rename(staged.path, this.path);
    await rm(`${staged.path}.wal`, { force: true });
  }

  /** Closes the connection and the database, releasing the file lock at once (not whenever GC runs). */
  async close(): Promise<void> {
    if (!this.opened) return;
    const opening = this.opened;
    this.opened = undefined;
    // A database that never opened has nothing to close; its error was reported where it was used.
    const opened = await opening.catch(() => undefined);
    if (!opened) return;
    opened.connection.closeSync();
    opened.instance.closeSync();
  }
}

/**
 * The Warehouse port on DuckDB: each dataset's Parquet into a temp staging table, then the same statements
 * the Redshift adapter sends (merge both datasets, derive the facts of the affected rewards), then the views,
 * all inside one transaction: a kill at any instant leaves the warehouse as before the load or as after it.
 */
export class DuckDbWarehouse implements Warehouse {
  /**
   * `localFile` gives the path DuckDB reads an object key from: the key's own file for a folder store, or a
   * downloaded copy when the objects live in S3 (DuckDB gets no network extension here).
   */
  constructor(
    private readonly database: DuckDbDatabase,
    private readonly localFile: (key: string) => string | Promise<string>,
    private readonly settings: DuckDbWarehouseSettings = {},
  ) {
    checkTimeZone(settings.reportingTimeZone ?? 'UTC');
  }

  async loadRun(load: RunLoad, options: { runId?: string } = {}): Promise<LoadResult> {
    const files: Record<LakeDataset, string[]> = { transactions: [], rewards: [] };
    for (const dataset of LAKE_DATASETS) files[dataset] = await Promise.all(load[dataset].map((key) => this.localFile(key)));
    const staging = { transactions: 'staging_transactions', rewards: 'staging_rewards' };
    const bytes = (await Promise.all([...files.transactions, ...files.rewards].map((file) => stat(file).then((s) => s.size)))).reduce(
      (a, b) => a + b,
      0,
    );
    await this.database.run(`SET memory_limit = '${loadMemoryLimitMb(bytes, this.database.memoryCeilingMb)}MB'`);
    // A join whose build side is small (the run's keys) pushes an IN filter into the scan of the big table, so
    // the rows fetched by rowid are read only where they are (DuckDB's default stops at 50 values).
    await this.database.run('SET dynamic_or_filter_threshold = 10000');
    // Tables, new columns and views first, in transactions of their own: DuckDB refuses to change rows of a table
    // that the same transaction altered ("another transaction has altered this table"), and a schema brought up
    // to date is right whether or not this load then commits.
    await this.createTablesAndViews();
    const staged = await this.database.transaction(async () => {
      const counts = { transactions: 0, rewards: 0 };
      for (const dataset of LAKE_DATASETS) {
        const view = quoteIdentifier(staging[dataset]);
        // Staging is a view over the run's Parquet, not a copy of it: the load statements read it where they need
        // it (a first load of 3M + 3M rows copied into temp tables took 900 MB). The curated columns only, typed as
        // the tables' (the probe hashes are computed as rows go into the tables).
        const columns = CURATED_SCHEMAS[dataset]
          .map((spec) => `CAST(${quoteIdentifier(spec.name)} AS ${DUCKDB_DIALECT.columnType(spec)}) AS ${quoteIdentifier(spec.name)}`)
          .join(', ');
        const source = files[dataset].length
          ? `read_parquet([${files[dataset].map(quoteLiteral).join(', ')}])`
          : `(SELECT * FROM ${quoteIdentifier(dataset)} LIMIT 0)`;
        await this.database.run(`CREATE TEMP VIEW ${view} AS SELECT ${columns} FROM ${source}`);
        const [{ n }] = await this.database.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${view}`);
        counts[dataset] = n;
      }
      const [{ loaded }] = await this.database.query<{ loaded: number }>(
        'SELECT ((SELECT count(*) FROM "transactions") + (SELECT count(*) FROM "rewards") + (SELECT count(*) FROM "reward_facts"))::BIGINT AS loaded',
      );
      const into = Number(loaded) === 0 ? 'empty' : 'loaded';
      for (const statement of duckdbLoadStatements({ staging, into })) await this.database.run(statement);
      if (options.runId) {
        const record = ledgerRecordSql({
          runId: options.runId,
          loadedAt: new Date(),
          dialect: DUCKDB_DIALECT,
          schema: STORE_SCHEMA,
          staging: { transactions: quoteIdentifier(staging.transactions), rewards: quoteIdentifier(staging.rewards) },
          tables: { transactions: storeTable('transactions'), rewards: storeTable('rewards'), reward_facts: storeTable('reward_facts') },
        });
        for (const statement of record) await this.database.run(statement);
      }
      for (const dataset of LAKE_DATASETS) await this.database.run(`DROP VIEW ${quoteIdentifier(staging[dataset])}`);
      return counts;
    });
    const [counts] = await this.database.query<Record<string, number>>(`SELECT * FROM (${tableCountsSql()})`);
    return {
      staged,
      inTable: {
        transactions: Number(counts['transactions']),
        rewards: Number(counts['rewards']),
        reward_facts: Number(counts['reward_facts']),
      },
      factsWithoutTransaction: Number(counts['facts_without_transaction']),
      ...(options.runId ? { ledger: (await this.ledger()).find((entry) => entry.runId === options.runId) } : {}),
    };
  }

  async transactionMonthCounts(through: string): Promise<Record<string, number>> {
    return this.months.transactionMonthCounts(through);
  }

  async transactionsDatedBefore(before: string): Promise<number> {
    return this.months.transactionsDatedBefore(before);
  }

  async transactionIdsBetween(from: string, before: string): Promise<string[]> {
    if (!(await this.tableCounts()).transactions) return [];
    return (await this.database.query<{ transaction_id: string }>(transactionIdsBetweenSql(from, before, STORE_SCHEMA))).map(
      (row) => row.transaction_id,
    );
  }

  async rewardMonthSummary(before: string, excludeIds: readonly string[] = []): Promise<RewardMonthSummary> {
    return this.months.rewardMonthSummary(before, excludeIds);
  }

  async monthFigures(from: 'ledger' | 'tables'): Promise<Record<LakeDataset, MonthFigures>> {
    return this.months.monthFigures(from);
  }

  /** The ledger's figures per month, and the tables' own where they cannot answer (`warehouse-months.ts`). */
  private readonly months = monthFigureQueries({
    kept: async () =>
      (await this.hasTable(LEDGER_MONTHS_TABLE)) ? ledgerMonthsOf(await this.database.query(ledgerMonthsSelectSql(STORE_SCHEMA))) : null,
    count: async (dataset) => (await this.tableCounts())[dataset],
    scan: async (dataset, options) =>
      (await this.tableCounts())[dataset]
        ? monthFiguresOf(
            await this.database.query(monthFiguresScanSql(DUCKDB_DIALECT, dataset, { relation: storeTable(dataset), ...options })),
          )
        : {},
  });

  async rewardIdsUpdatedBetween(from: string, before: string): Promise<string[]> {
    if (!(await this.tableCounts()).rewards) return [];
    return (await this.database.query<{ reward_id: string }>(rewardIdsUpdatedBetweenSql(from, before, STORE_SCHEMA))).map(
      (row) => row.reward_id,
    );
  }

  async accounts(): Promise<string[]> {
    if (!(await this.tableCounts()).transactions) return [];
    return (await this.database.query<{ user_id: string }>(accountsSql(STORE_SCHEMA))).map((row) => row.user_id);
  }

  async ledger(): Promise<LedgerEntry[]> {
    if (!(await this.hasLedger())) return [];
    return (await this.database.query(ledgerSelectSql(STORE_SCHEMA))).map(ledgerEntryOf);
  }

  async adoptLedger(runId: string): Promise<void> {
    await this.createTablesAndViews();
    await this.database.transaction(() => this.database.run(ledgerAdoptSql(runId, new Date(), this.storeTables(), STORE_SCHEMA)));
  }

  async rederiveFacts(): Promise<number> {
    await this.createTablesAndViews();
    const facts = storeTable('reward_facts');
    await this.database.transaction(async () => {
      await this.database.run(`DELETE FROM ${facts}`);
      await this.database.run(
        insertRowsSql(
          'reward_facts',
          facts,
          `(${rewardFactsSelectSql({ dialect: DUCKDB_DIALECT, rewards: storeTable('rewards'), transactions: storeTable('transactions') })})`,
        ),
      );
      await this.database.run(ledgerFactsCountSql(facts, STORE_SCHEMA));
    });
    return (await this.tableCounts()).reward_facts;
  }

  private storeTables(): Record<CuratedDataset, string> {
    return { transactions: storeTable('transactions'), rewards: storeTable('rewards'), reward_facts: storeTable('reward_facts') };
  }

  private async hasLedger(): Promise<boolean> {
    return this.hasTable(LEDGER_TABLE);
  }

  private async hasTable(name: string): Promise<boolean> {
    const rows = await this.database.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = ${quoteLiteral(STORE_SCHEMA)} AND table_name = ${quoteLiteral(name)}`,
    );
    return rows.length > 0;
  }

  /**
   * The tables (empty when new), the views users query in their place, and the dashboard's views; a no-op when
   * they exist. A warehouse of an earlier version (its tables in the main schema) is moved into this layout, and
   * tables missing curated columns get them; each change of a table's shape is a transaction of its own (DuckDB
   * does not mix them with changes of rows), and a schema brought up to date is right whether or not a load follows.
   */
  private viewSql(): string[] {
    return viewStatements(DUCKDB_DIALECT, {
      timeZone: this.settings.reportingTimeZone,
      tableOf: { [LEDGER_TABLE]: qualifiedName(LEDGER_TABLE, STORE_SCHEMA) },
    });
  }

  /**
   * The views made again as this connection's temporary views, in this warehouse's reporting time zone: they
   * shadow the stored ones for this connection only, so a reader (the dashboard, opened read-only) sees months and
   * days of the zone it was asked for whichever zone the last load made them in, and writes nothing.
   */
  async useTemporaryViews(): Promise<void> {
    for (const sql of this.viewSql().filter((statement) => statement.startsWith('CREATE OR REPLACE VIEW ')))
      await this.database.run(sql.replace(/^CREATE OR REPLACE VIEW /, 'CREATE OR REPLACE TEMP VIEW '));
  }

  /** The data's health as of this load in its tables (made here if missing), replacing what an earlier load kept: one transaction. */
  async recordDataHealth(health: DataHealth, recordedAt: Date): Promise<void> {
    await this.database.transaction(() =>
      this.runAll([
        ...dataHealthTableStatements(DUCKDB_DIALECT, quoteIdentifier),
        ...dataHealthRowStatements(health, recordedAt, quoteIdentifier),
      ]),
    );
  }

  async createTablesAndViews(): Promise<void> {
    const datasets = Object.keys(CURATED_SCHEMAS) as CuratedDataset[];
    await this.database.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(STORE_SCHEMA)}`);
    const legacy = new Set(
      (
        await this.database.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'",
        )
      ).map((row) => row.name),
    );
    const columns = async (schema: string) => {
      const rows = await this.database.query<{ table_name: CuratedDataset; column_name: string }>(presentColumnsSql(schema));
      return (dataset: CuratedDataset) => rows.filter((row) => row.table_name === dataset).map((row) => row.column_name);
    };
    const mainColumns = await columns('main');
    const storeColumns = await columns(STORE_SCHEMA);
    for (const dataset of datasets) {
      const change = legacy.has(dataset)
        ? moveLegacyTableSql(dataset, mainColumns(dataset))
        : storeColumns(dataset).length
          ? addMissingColumnsSql(dataset, curatedColumnsOf(dataset, storeColumns(dataset)), DUCKDB_DIALECT, STORE_SCHEMA)
          : [storeTableSql(dataset)];
      if (change.length) await this.database.transaction(() => this.runAll(change));
    }
    await this.database.transaction(() =>
      this.runAll([
        ledgerTableSql(DUCKDB_DIALECT, STORE_SCHEMA),
        ledgerMonthsTableSql(DUCKDB_DIALECT, STORE_SCHEMA),
        ...datasets.map(publicViewSql),
        ...dataHealthTableStatements(DUCKDB_DIALECT, quoteIdentifier),
        ...this.viewSql(),
      ]),
    );
  }

  private async runAll(statements: readonly string[]): Promise<void> {
    for (const statement of statements) await this.database.run(statement);
  }

  async tableCounts(): Promise<Record<CuratedDataset, number>> {
    // The views of this layout, or the tables of an earlier version's, under the same names.
    const present = new Set(
      (
        await this.database.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main'")
      ).map((row) => row.name),
    );
    const counts = { transactions: 0, rewards: 0, reward_facts: 0 };
    for (const dataset of Object.keys(counts) as CuratedDataset[]) {
      if (!present.has(dataset)) continue;
      // A view whose table was dropped by hand holds nothing (the reconciliation then sees the difference).
      const rows = await this.database
        .query<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${quoteIdentifier(dataset)}`)
        .catch((error: Error) => {
          if (/Catalog Error/.test(error.message)) return [{ n: 0 }];
          throw error;
        });
      counts[dataset] = Number(rows[0].n);
    }
    return counts;
  }

  /**
   * A rebuild made in a new file beside this warehouse's (`<file>.rebuild`, any left by an interrupted rebuild
   * removed first), with its own catalog, swapped in whole by `swapIn` (`DuckDbDatabase.replaceWith`): until then
   * the warehouse users see is the old one, and an interrupted or failed rebuild leaves it as it was.
   */
  async stageRebuild(options: { resume?: boolean } = {}): Promise<StagedRebuild> {
    if (this.database.path === ':memory:') throw new PipelineError('A rebuild beside an in-memory warehouse has nowhere to go.');
    const path = `${this.database.path}.rebuild`;
    const clear = async () => {
      await rm(path, { force: true });
      await rm(`${path}.wal`, { force: true });
    };
    if (!options.resume) await clear();
    else if (!(await stat(path).catch(() => undefined))) {
      throw new PipelineError(
        `The rebuild's staged warehouse ${path} is gone (removed by hand, or discarded after a failure): start the rebuild again.`,
        { code: 'REBUILD_STAGE_GONE' },
      );
    }
    const staged = this.database.sibling(path);
    return {
      warehouse: new DuckDbWarehouse(staged, this.localFile, this.settings),
      catalog: new DuckDbCatalog(staged, this.localFile),
      swapIn: () => this.database.replaceWith(staged),
      discard: async () => {
        await staged.close();
        await clear();
      },
      release: () => staged.close(),
    };
  }

  async reset(): Promise<void> {
    const kinds = new Map(
      (
        await this.database.query<{ name: string; kind: string }>(
          "SELECT table_name AS name, table_type AS kind FROM information_schema.tables WHERE table_schema = 'main'",
        )
      ).map((row) => [row.name, row.kind]),
    );
    await this.database.transaction(async () => {
      for (const name of [...ALL_VIEWS.map((view) => view.name).reverse(), ...RETIRED_VIEWS])
        await this.database.run(`DROP VIEW IF EXISTS ${quoteIdentifier(name)}`);
      for (const dataset of Object.keys(CURATED_SCHEMAS) as CuratedDataset[]) {
        const kind = kinds.get(dataset);
        if (kind) await this.database.run(`DROP ${kind === 'VIEW' ? 'VIEW' : 'TABLE'} ${quoteIdentifier(dataset)}`);
        await this.database.run(`DROP TABLE IF EXISTS ${storeTable(dataset)}`);
      }
      await this.database.run(`DROP TABLE IF EXISTS ${qualifiedName(LEDGER_TABLE, STORE_SCHEMA)}`);
      await this.database.run(`DROP TABLE IF EXISTS ${qualifiedName(LEDGER_MONTHS_TABLE, STORE_SCHEMA)}`);
    });
  }

  /** An order-independent fingerprint of a table's contents, for proving a re-run changed nothing. */
  async tableChecksum(dataset: CuratedDataset): Promise<string> {
    const key = quoteIdentifier(DATASET_KEYS[dataset]);
    const [row] = await this.database.query<{ checksum: string | null; rows: number }>(
      `SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY t.${key})) AS checksum, count(*)::INTEGER AS rows FROM ${quoteIdentifier(dataset)} AS t`,
    );
    return `${row.rows}:${row.checksum ?? 'empty'}`;
  }
}

/**
 * The Catalog port on DuckDB: a `curated_<dataset>` view per lake dataset over the partitions of loaded runs
 * (the pipeline registers a run only after its load), one row per key (the latest version, then the latest
 * run), with file paths relative to the data dir. The registered partitions are kept in `lake_partitions`.
 */
export class DuckDbCatalog implements Catalog {
  constructor(
    private readonly database: DuckDbDatabase,
    private readonly localFile: (key: string) => string | Promise<string>,
  ) {}

  async registerPartitions(partitions: readonly PartitionRef[]): Promise<void> {
    const base = dirname(this.database.path);
    await this.database.run(
      'CREATE TABLE IF NOT EXISTS lake_partitions (dataset VARCHAR NOT NULL, run_id VARCHAR NOT NULL, ingest_date VARCHAR NOT NULL, path VARCHAR NOT NULL, PRIMARY KEY (dataset, run_id, path))',
    );
    await this.database.transaction(async () => {
      for (const partition of partitions) {
        await this.database.run(
          `DELETE FROM lake_partitions WHERE dataset = ${quoteLiteral(partition.dataset)} AND run_id = ${quoteLiteral(partition.runId)}`,
        );
        for (const key of partition.keys) {
          const absolute = await this.localFile(key);
          const path = relative(base, absolute);
          // Outside the data dir (an S3 cache elsewhere) stays absolute; inside, it travels with the folder.
          const stored = path.startsWith('..') || isAbsolute(path) ? absolute : path.split(sep).join('/');
          await this.database.run(
            `INSERT INTO lake_partitions VALUES (${[partition.dataset, partition.runId, partition.ingestDate, stored].map(quoteLiteral).join(', ')})`,
          );
        }
      }
      for (const dataset of LAKE_DATASETS) await this.createView(dataset);
      // Earlier versions kept the facts in the lake; they live in the warehouse now.
      await this.database.run('DROP VIEW IF EXISTS "curated_reward_facts"');
    });
  }

  async listPartitions(): Promise<{ dataset: LakeDataset; runId: string }[]> {
    const exists = await this.database.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'lake_partitions'",
    );
    if (!exists.length) return [];
    return (
      await this.database.query<{ dataset: LakeDataset; run_id: string }>(
        'SELECT DISTINCT dataset, run_id FROM lake_partitions ORDER BY 2, 1',
      )
    ).map((row) => ({ dataset: row.dataset, runId: row.run_id }));
  }

  private async createView(dataset: LakeDataset): Promise<void> {
    const rows = await this.database.query<{ path: string; run_id: string; ingest_date: string }>(
      `SELECT path, run_id, ingest_date FROM lake_partitions WHERE dataset = ${quoteLiteral(dataset)} ORDER BY run_id`,
    );
    if (!rows.length) return;
    // The paths are user data (a data dir may contain '[' or '?'): listed one by one, never globbed.
    const files = rows.map((row) => quoteLiteral(row.path)).join(', ');
    const key = quoteIdentifier(DATASET_KEYS[dataset]);
    const newestFirst = latestFirstOrderSql(dataset, DUCKDB_DIALECT, { laterLoadFirst: '"run" DESC' });
    await this.database.run(
      `CREATE OR REPLACE VIEW ${quoteIdentifier(`curated_${dataset}`)} AS SELECT * EXCLUDE ("lake_rank") FROM (` +
        `SELECT *, row_number() OVER (PARTITION BY ${key} ORDER BY ${newestFirst}) AS "lake_rank" ` +
        `FROM read_parquet([${files}], hive_partitioning = true, hive_types = {'ingest_date': VARCHAR, 'run': VARCHAR})) WHERE "lake_rank" = 1`,
    );
  }
}
