import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type DescribeStatementCommandOutput,
  type Field,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { createTableSql, mergeStatements, PipelineError, quoteIdentifier, quoteLiteral, TransientError, type MergeResult, type Warehouse } from '@org/pipeline';
import { viewStatements } from '@org/dashboard';
import { CURATED_SCHEMAS, type CuratedDataset } from '@org/rewards-transform';

/** Redshift Serverless (a workgroup) or a provisioned cluster (with a database user or a secret). */
export type RedshiftTarget =
  | { workgroupName: string; database: string; secretArn?: string }
  | { clusterIdentifier: string; database: string; dbUser?: string; secretArn?: string };

export interface RedshiftWarehouseSettings {
  target: RedshiftTarget;
  /** Schema of the tables. Default `rewards`. */
  schema?: string;
  /** The role Redshift assumes to read the curated Parquet for COPY. */
  iamRoleArn: string;
  /** s3:// URL of an object key (the S3 object store's `locate`). */
  locate: (key: string) => string;
  /** Give up waiting for a statement after this long. Default 15 minutes. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A statement Redshift ran and failed: carries the SQL and Redshift's message. */
export class RedshiftStatementError extends PipelineError {
  constructor(
    readonly statementId: string,
    readonly failedSql: string | undefined,
    readonly redshiftMessage: string,
  ) {
    const copyHint = /^\s*COPY\b/i.test(failedSql ?? '') || /load|copy/i.test(redshiftMessage)
      ? ' For COPY errors, query sys_load_error_detail (or stl_load_errors on a cluster) for the failing rows.'
      : '';
    super(`Redshift statement ${statementId} failed: ${redshiftMessage}${failedSql ? `\nFailed SQL: ${failedSql}` : ''}${copyHint}`);
  }
}

/** A scalar from the Data API's Field union. */
export type RedshiftValue = string | number | boolean | null;

/** Dist and sort keys chosen for the dashboard's queries: joins on the keys, filters by time. */
const TABLE_LAYOUT: Record<CuratedDataset, string> = {
  transactions: 'DISTKEY("transaction_id") SORTKEY("transaction_date")',
  rewards: 'DISTKEY("reward_id") SORTKEY("created_at")',
  reward_facts: 'DISTKEY("reward_id") SORTKEY("reward_month", "created_at")',
};

/**
 * The pipeline's Warehouse on Redshift through the Data API: COPY the run's Parquet into a temp staging table,
 * de-duplicate and MERGE, all in one BatchExecuteStatement (one transaction), then poll DescribeStatement
 * with backoff. SQL comes from @org/pipeline's generators; identifiers are quoted and values escaped.
 */
export class RedshiftWarehouse implements Warehouse {
  private readonly schema: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: RedshiftDataClient,
    private readonly settings: RedshiftWarehouseSettings,
  ) {
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(settings.iamRoleArn)) {
      throw new PipelineError(`iamRoleArn is not an IAM role ARN: ${settings.iamRoleArn}`);
    }
    this.schema = settings.schema ?? 'rewards';
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The statements of one load, in order (exposed so they can be inspected and tested on DuckDB). */
  loadStatements(dataset: CuratedDataset, objectKeys: readonly string[]): string[] {
    const staging = `staging_${dataset}`;
    const target = `${quoteIdentifier(this.schema)}.${quoteIdentifier(dataset)}`;
    return [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`,
      createTableSql(dataset, 'redshift', { schema: this.schema, extra: TABLE_LAYOUT[dataset] }),
      `CREATE TEMP TABLE ${quoteIdentifier(staging)} (LIKE ${target})`,
      ...objectKeys.map(
        (key) => `COPY ${quoteIdentifier(staging)} FROM ${quoteLiteral(this.settings.locate(key))} IAM_ROLE ${quoteLiteral(this.settings.iamRoleArn)} FORMAT AS PARQUET`,
      ),
      ...mergeStatements(dataset, { staging, schema: this.schema }),
      `DROP TABLE ${quoteIdentifier(staging)}`,
    ];
  }

  async mergeDataset(dataset: CuratedDataset, objectKeys: readonly string[]): Promise<MergeResult> {
    const sqls = this.loadStatements(dataset, objectKeys);
    const { Id } = await this.client.send(new BatchExecuteStatementCommand({ ...this.targetParams(), Sqls: sqls, StatementName: `rewards-load-${dataset}` }));
    const finished = await this.waitFor(Id as string, sqls);
    // Rows staged: what the COPY sub-statements loaded.
    const rowsStaged = (finished.SubStatements ?? [])
      .filter((sub) => /^\s*COPY\b/i.test(sub.QueryString ?? ''))
      .reduce((sum, sub) => sum + Number(sub.ResultRows ?? 0), 0);
    const [row] = await this.query(`SELECT count(*) AS n FROM ${quoteIdentifier(this.schema)}.${quoteIdentifier(dataset)}`);
    return { dataset, rowsStaged, rowsInTable: Number(row?.['n'] ?? 0) };
  }

  /** The dashboard views, created (or replaced) in one batch after the tables exist. */
  async createViews(): Promise<void> {
    const sqls = [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`,
      ...(Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).map((dataset) => createTableSql(dataset, 'redshift', { schema: this.schema, extra: TABLE_LAYOUT[dataset] })),
      ...viewStatements('redshift', this.schema),
    ];
    const { Id } = await this.client.send(new BatchExecuteStatementCommand({ ...this.targetParams(), Sqls: sqls, StatementName: 'rewards-views' }));
    await this.waitFor(Id as string, sqls);
  }

  /** Runs one statement and reads every page of its result, typed by column. */
  async query(sql: string): Promise<Record<string, RedshiftValue>[]> {
    const { Id } = await this.client.send(new ExecuteStatementCommand({ ...this.targetParams(), Sql: sql }));
    await this.waitFor(Id as string, [sql]);
    const rows: Record<string, RedshiftValue>[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new GetStatementResultCommand({ Id, NextToken: nextToken }));
      const names = (page.ColumnMetadata ?? []).map((column) => column.name ?? column.label ?? '?');
      for (const record of page.Records ?? []) rows.push(Object.fromEntries(record.map((field, i) => [names[i], fieldValue(field)])));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  private targetParams() {
    const target = this.settings.target;
    return 'workgroupName' in target
      ? { WorkgroupName: target.workgroupName, Database: target.database, SecretArn: target.secretArn }
      : { ClusterIdentifier: target.clusterIdentifier, Database: target.database, DbUser: target.dbUser, SecretArn: target.secretArn };
  }

  /** Polls DescribeStatement with backoff (250 ms doubling to 5 s) until it finishes, fails or times out. */
  private async waitFor(id: string, sqls: readonly string[]): Promise<DescribeStatementCommandOutput> {
    const deadline = Date.now() + (this.settings.timeoutMs ?? 15 * 60_000);
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      const statement = await this.client.send(new DescribeStatementCommand({ Id: id }));
      if (statement.Status === 'FINISHED') return statement;
      if (statement.Status === 'FAILED' || statement.Status === 'ABORTED') {
        const failed = statement.SubStatements?.find((sub) => sub.Status === 'FAILED');
        throw new RedshiftStatementError(id, failed?.QueryString ?? (sqls.length === 1 ? sqls[0] : undefined), failed?.Error ?? statement.Error ?? statement.Status);
      }
      if (Date.now() > deadline) throw new TransientError(`Redshift statement ${id} still ${statement.Status} after the timeout.`);
      await this.sleep(wait);
    }
  }
}

function fieldValue(field: Field): RedshiftValue {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  return null;
}
