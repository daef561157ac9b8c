import { sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createTableSql, mergeStatements, quoteIdentifier, quoteLiteral, type Catalog, type MergeResult, type PartitionRef, type Warehouse } from '@org/pipeline';
import { viewStatements } from '@org/dashboard';
import { CURATED_SCHEMAS, DATASET_KEYS, type CuratedDataset } from '@org/rewards-transform';

/** One DuckDB database file, shared by the local warehouse and catalog (DuckDB allows one writer process). */
export class DuckDbDatabase {
  private opened?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;
  constructor(readonly path: string) {}

  async connect(): Promise<DuckDBConnection> {
    this.opened ??= DuckDBInstance.create(this.path).then(async (instance) => ({ instance, connection: await instance.connect() }));
    return (await this.opened).connection;
  }

  async run(sql: string): Promise<void> {
    await (await this.connect()).run(sql);
  }

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return (await (await this.connect()).runAndReadAll(sql)).getRowObjectsJson() as T[];
  }

  /** Closes the connection and the database, releasing the file lock at once (not whenever GC runs). */
  async close(): Promise<void> {
    if (!this.opened) return;
    const { instance, connection } = await this.opened;
    this.opened = undefined;
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * The Warehouse port on DuckDB: parquet into a temp staging table, then the same de-duplicate + MERGE text the
 * Redshift adapter sends, all inside one transaction. Loading the same files twice changes nothing.
 */
export class DuckDbWarehouse implements Warehouse {
  /**
   * `localFile` gives the path DuckDB reads an object key from: the key's own file for a folder store, or a
   * downloaded copy when the objects live in S3 (DuckDB gets no network extension here).
   */
  constructor(
    private readonly database: DuckDbDatabase,
    private readonly localFile: (key: string) => string | Promise<string>,
  ) {}

  async mergeDataset(dataset: CuratedDataset, objectKeys: readonly string[]): Promise<MergeResult> {
    const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');
    const files = (await Promise.all(objectKeys.map((key) => this.localFile(key)))).map(quoteLiteral).join(', ');
    const staging = `staging_${dataset}`;
    await this.database.run(createTableSql(dataset, 'duckdb'));
    await this.database.run('BEGIN TRANSACTION');
    try {
      await this.database.run(`CREATE TEMP TABLE ${quoteIdentifier(staging)} AS SELECT ${columns} FROM read_parquet([${files}])`);
      const [{ staged }] = await this.database.query<{ staged: number }>(`SELECT count(*)::INTEGER AS staged FROM ${quoteIdentifier(staging)}`);
      for (const statement of mergeStatements(dataset, { staging })) await this.database.run(statement);
      await this.database.run(`DROP TABLE ${quoteIdentifier(staging)}`);
      await this.database.run('COMMIT');
      const [{ rows }] = await this.database.query<{ rows: number }>(`SELECT count(*)::INTEGER AS rows FROM ${quoteIdentifier(dataset)}`);
      return { dataset, rowsStaged: staged, rowsInTable: rows };
    } catch (error) {
      await this.database.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async createViews(): Promise<void> {
    for (const dataset of Object.keys(CURATED_SCHEMAS) as CuratedDataset[]) await this.database.run(createTableSql(dataset, 'duckdb'));
    for (const statement of viewStatements('duckdb')) await this.database.run(statement);
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
 * The Catalog port on DuckDB: one view per curated dataset over all its Parquet partitions. Each registered
 * partition is first made a local file (a no-op for a folder store; a download for S3).
 */
export class DuckDbCatalog implements Catalog {
  constructor(
    private readonly database: DuckDbDatabase,
    private readonly localFile: (key: string) => string | Promise<string>,
  ) {}

  async registerPartitions(partitions: readonly PartitionRef[]): Promise<void> {
    const folders = new Map<string, string>();
    for (const partition of partitions) {
      const path = await this.localFile(partition.key);
      const marker = `${sep}curated${sep}${partition.dataset}${sep}`;
      folders.set(partition.dataset, path.slice(0, path.lastIndexOf(marker) + marker.length));
    }
    for (const [dataset, folder] of folders) {
      await this.database.run(
        `CREATE OR REPLACE VIEW ${quoteIdentifier(`curated_${dataset}`)} AS SELECT * FROM read_parquet(${quoteLiteral(`${folder}**/*.parquet`)}, hive_partitioning = true)`,
      );
    }
  }
}
