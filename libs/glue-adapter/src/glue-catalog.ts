import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetCrawlerCommand,
  GetPartitionsCommand,
  GetTableCommand,
  StartCrawlerCommand,
  UpdateTableCommand,
  type Column,
  type GlueClient,
  type StorageDescriptor,
  type TableInput,
} from '@aws-sdk/client-glue';
import { PipelineError, TransientError, type Catalog, type PartitionRef } from '@org/pipeline';
import { CURATED_SCHEMAS, LAKE_DATASETS, type ColumnSpec, type LakeDataset } from '@org/rewards-transform';

export interface GlueCatalogSettings {
  databaseName: string;
  /** Where the curated Parquet lives: s3://{bucket}/{prefix}curated/{dataset}/... */
  bucket: string;
  prefix?: string;
  catalogId?: string;
  /** Optionally start this crawler after registering partitions, and wait for it, as the public pipeline did. */
  crawlerName?: string;
  crawlerTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class GlueCatalogError extends PipelineError {}

const PARTITION_KEYS: Column[] = [
  { Name: 'ingest_date', Type: 'string' },
  { Name: 'run', Type: 'string' },
];
/**
 * BatchCreatePartition takes at most 100 partitions a call
 * (https://docs.aws.amazon.com/glue/latest/webapi/API_BatchCreatePartition.html, PartitionInputList).
 */
export const GLUE_PARTITIONS_PER_BATCH = 100;

/**
 * The pipeline's Catalog on the Glue Data Catalog: makes sure the database and the three tables exist (Parquet
 * SerDe, the curated schema's columns and types, partitioned by ingest_date and run), adds columns when the
 * schema gains some, and registers each run's partitions. Partitions that already exist are not an error.
 */
export class GlueCatalog implements Catalog {
  private ensured = false;
  private readonly prefix: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: GlueClient,
    private readonly settings: GlueCatalogSettings,
  ) {
    this.prefix = settings.prefix ? settings.prefix.replace(/\/?$/, '/') : '';
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async registerPartitions(partitions: readonly PartitionRef[]): Promise<void> {
    await this.ensureTables();
    for (const dataset of new Set(partitions.map((partition) => partition.dataset))) {
      const mine = partitions.filter((partition) => partition.dataset === dataset);
      for (let i = 0; i < mine.length; i += GLUE_PARTITIONS_PER_BATCH) {
        const batch = mine.slice(i, i + GLUE_PARTITIONS_PER_BATCH);
        const answer = await this.send(() =>
          this.client.send(
            new BatchCreatePartitionCommand({
              CatalogId: this.settings.catalogId,
              DatabaseName: this.settings.databaseName,
              TableName: dataset,
              PartitionInputList: batch.map((partition) => ({
                Values: [partition.ingestDate, partition.runId],
                StorageDescriptor: this.storage(dataset, `ingest_date=${partition.ingestDate}/run=${partition.runId}/`),
              })),
            }),
          ),
        );
        const failures = (answer.Errors ?? []).filter((error) => error.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
        if (failures.length) {
          const first = failures[0];
          throw new GlueCatalogError(
            `Glue refused ${failures.length} partition(s) of ${this.settings.databaseName}.${dataset}; first: ` +
              `${first.PartitionValues?.join('/')}: ${first.ErrorDetail?.ErrorCode}: ${first.ErrorDetail?.ErrorMessage}`,
          );
        }
      }
    }
    if (this.settings.crawlerName) await this.runCrawler(this.settings.crawlerName);
  }

  /** Every partition of the lake tables, by dataset and run (GetPartitions, every page). */
  async listPartitions(): Promise<{ dataset: LakeDataset; runId: string }[]> {
    const found: { dataset: LakeDataset; runId: string }[] = [];
    for (const dataset of LAKE_DATASETS) {
      let nextToken: string | undefined;
      do {
        const page = await this.send(() =>
          this.client.send(
            new GetPartitionsCommand({
              CatalogId: this.settings.catalogId,
              DatabaseName: this.settings.databaseName,
              TableName: dataset,
              NextToken: nextToken,
            }),
          ),
        ).catch((error: unknown) => {
          if (isNamed(error, 'EntityNotFoundException')) return { Partitions: [], NextToken: undefined };
          throw error;
        });
        for (const partition of page.Partitions ?? []) if (partition.Values?.[1]) found.push({ dataset, runId: partition.Values[1] });
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return found;
  }

  /** Creates the database and tables when missing; adds columns the curated schema gained. Once per instance. */
  async ensureTables(): Promise<void> {
    if (this.ensured) return;
    await this.send(() =>
      this.client.send(
        new CreateDatabaseCommand({
          CatalogId: this.settings.catalogId,
          DatabaseInput: { Name: this.settings.databaseName, Description: 'Card-rewards pipeline: curated Parquet' },
        }),
      ),
    ).catch((error: unknown) => {
      if (!isNamed(error, 'AlreadyExistsException')) throw error;
    });
    for (const dataset of LAKE_DATASETS) {
      const wanted = this.tableInput(dataset);
      try {
        const { Table: table } = await this.send(() =>
          this.client.send(
            new GetTableCommand({ CatalogId: this.settings.catalogId, DatabaseName: this.settings.databaseName, Name: dataset }),
          ),
        );
        const have = new Set((table?.StorageDescriptor?.Columns ?? []).map((column) => column.Name));
        const missing = (wanted.StorageDescriptor?.Columns ?? []).filter((column) => !have.has(column.Name));
        if (missing.length) {
          await this.send(() =>
            this.client.send(
              new UpdateTableCommand({ CatalogId: this.settings.catalogId, DatabaseName: this.settings.databaseName, TableInput: wanted }),
            ),
          );
        }
      } catch (error) {
        if (!isNamed(error, 'EntityNotFoundException')) throw error;
        await this.send(() =>
          this.client.send(
            new CreateTableCommand({ CatalogId: this.settings.catalogId, DatabaseName: this.settings.databaseName, TableInput: wanted }),
          ),
        ).catch((createError: unknown) => {
          if (!isNamed(createError, 'AlreadyExistsException')) throw createError;
        });
      }
    }
    this.ensured = true;
  }

  tableInput(dataset: LakeDataset): TableInput {
    return {
      Name: dataset,
      TableType: 'EXTERNAL_TABLE',
      Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'SNAPPY' },
      PartitionKeys: PARTITION_KEYS,
      StorageDescriptor: this.storage(dataset, ''),
    };
  }

  private storage(dataset: LakeDataset, suffix: string): StorageDescriptor {
    return {
      Columns: CURATED_SCHEMAS[dataset].map((spec) => ({ Name: spec.name, Type: glueType(spec), Comment: spec.description.slice(0, 255) })),
      Location: `s3://${this.settings.bucket}/${this.prefix}curated/${dataset}/${suffix}`,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        Parameters: { 'serialization.format': '1' },
      },
    };
  }

  private async runCrawler(name: string): Promise<void> {
    await this.send(() => this.client.send(new StartCrawlerCommand({ Name: name }))).catch((error: unknown) => {
      if ((error as Error).name !== 'CrawlerRunningException') throw error;
    });
    const deadline = Date.now() + (this.settings.crawlerTimeoutMs ?? 15 * 60_000);
    for (let wait = 2000; ; wait = Math.min(wait * 2, 30_000)) {
      const { Crawler: crawler } = await this.send(() => this.client.send(new GetCrawlerCommand({ Name: name })));
      if (crawler?.State === 'READY') {
        const status = crawler.LastCrawl?.Status;
        if (status && status !== 'SUCCEEDED')
          throw new GlueCatalogError(`Crawler ${name} ended ${status}: ${crawler.LastCrawl?.ErrorMessage ?? 'no message'}`);
        return;
      }
      if (Date.now() > deadline) throw new GlueCatalogError(`Crawler ${name} still ${crawler?.State} after the timeout.`);
      await this.sleep(wait);
    }
  }

  /**
   * One Glue call, translated at this boundary: throttling, a concurrent update of the same table and Glue's own
   * 5xx are TransientError (the state machine retries the step with backoff); anything else (access denied, a
   * bad request) fails the step at once. No loop here: the SDK client already retries throttling within the
   * call (its maxAttempts), and a second loop on top would multiply the tries.
   */
  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const { name, $fault, $retryable } = error as { name?: string; $fault?: string; $retryable?: unknown };
      if (/Throttl|ConcurrentModification|OperationTimeout|InternalService/.test(name ?? '') || $fault === 'server' || $retryable) {
        throw new TransientError(`Glue failed for a moment (${name}): ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }
}

export function glueType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'string':
      return 'string';
    case 'integer':
      return 'bigint';
    case 'decimal':
      return `decimal(${spec.precision ?? 18},${spec.scale ?? 0})`;
    case 'double':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp';
  }
}

/** By name, not instanceof: two copies of the SDK in one bundle would make instanceof lie. */
function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | undefined)?.name === name;
}
