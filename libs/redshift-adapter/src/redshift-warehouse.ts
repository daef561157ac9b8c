import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  type BatchExecuteStatementCommandOutput,
  type ListStatementsCommandOutput,
  type DescribeStatementCommandOutput,
  type ExecuteStatementCommandOutput,
  type GetStatementResultCommandOutput,
  type Field,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import {
  addMissingColumnsSql,
  createTableSql,
  presentColumnsSql,
  PipelineError,
  WarehouseInUseError,
  tableCountsSql,
  TransientError,
  ledgerAdoptSql,
  transactionIdsBetweenSql,
  rewardIdsUpdatedBetweenSql,
  accountsSql,
  type RewardMonthSummary,
  LEDGER_MONTHS_TABLE,
  ledgerMonthsTableSql,
  ledgerMonthsSelectSql,
  ledgerMonthsOf,
  monthFiguresOf,
  monthFiguresScanSql,
  monthFigureQueries,
  type MonthFigures,
  ledgerEntryOf,
  ledgerFactsCountSql,
  ledgerRecordSql,
  ledgerSelectSql,
  ledgerTableSql,
  LEDGER_TABLE,
  type LedgerEntry,
  type LoadResult,
  type RunLoad,
  type StagedRebuild,
  type Warehouse,
  type DataHealth,
} from '@org/pipeline';
import {
  ALL_VIEWS,
  REPORTING_VIEWS,
  RETIRED_VIEWS,
  viewStatements,
  dataHealthRowStatements,
  dataHealthTableStatements,
} from '@org/dashboard';
import { createHash } from 'node:crypto';
import { checkTimeZone, isPlainUserName, quoteIdentifier, quoteLiteral, REDSHIFT_DIALECT } from '@org/sql-dialect';
import { redshiftMergeStatements } from './redshift-load-plan';
import { CURATED_SCHEMAS, LAKE_DATASETS, rewardFactsSelectSql, type CuratedDataset, type LakeDataset } from '@org/rewards-transform';

/** Redshift Serverless (a workgroup) or a provisioned cluster (with a database user or a secret). */
export type RedshiftTarget =
  | { workgroupName: string; database: string; secretArn?: string }
  | { clusterIdentifier: string; database: string; dbUser?: string; secretArn?: string };

/**
 * The Data API's connection fields for a target: they also decide how it signs in
 * (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html): a `SecretArn` (the secret's user), a
 * workgroup alone (the caller's IAM identity), a cluster with a `DbUser` (that user) or alone (the caller's IAM
 * identity).
 */
export function dataApiTargetParams(target: RedshiftTarget) {
  return 'workgroupName' in target
    ? { WorkgroupName: target.workgroupName, Database: target.database, SecretArn: target.secretArn }
    : { ClusterIdentifier: target.clusterIdentifier, Database: target.database, DbUser: target.dbUser, SecretArn: target.secretArn };
}

export interface RedshiftWarehouseSettings {
  target: RedshiftTarget;
  /** Schema of the tables. Default `rewards`. */
  schema?: string;
  /** The role Redshift assumes to read the curated Parquet for COPY. */
  iamRoleArn: string;
  /** s3:// URL of an object key (the S3 object store's `locate`). */
  locate: (key: string) => string;
  /**
   * Database users that read the schema (the extract and verify functions' `IAMR:` users): a rebuild's new schema
   * gives them again what the setup SQL gave them on the old one. None when every function signs in as one user.
   */
  readers?: readonly string[];
  /** The months and days of the views are this zone's (an IANA name). Default UTC. */
  reportingTimeZone?: string;
  /**
   * A read-only reporting identity (Looker Studio's): a database user that may read the `report_*` views and
   * nothing else, given SELECT on them again after every load. With a `password` (a namespace the stack created)
   * the user is created when missing and its password set on every load, so a rotated secret takes effect at the
   * next load; the password is only ever sent to Redshift as its MD5 hash. Without one, an admin made the user.
   */
  reportingUser?: { name: string; password?: string };
  /** Give up waiting for a statement after this long. Default 15 minutes. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A database user's name in double quotes: an `IAMR:`/`IAM:` user is named after its IAM role or user (letters,
 * digits and `+=,.@_-`), which a plain identifier cannot hold. Anything else is refused, never quoted blindly.
 */
export function quoteUserName(name: string): string {
  if (!/^(IAMR:|IAM:)?[\w+=,.@-]{1,128}$/.test(name))
    throw new PipelineError(
      `Not a database user name: ${JSON.stringify(name)} (letters, digits and +=,.@_-, optionally after IAMR: or IAM:).`,
      {
        code: 'REDSHIFT_USER_NAME',
      },
    );
  return `"${name}"`;
}

/**
 * A password as CREATE USER and ALTER USER accept it hashed: `md5` and the MD5 of the password followed by the user
 * name (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html), so the clear password never appears in
 * SQL text, in the Data API's statement history or in Redshift's query logs.
 */
export function md5PasswordHash(password: string, user: string): string {
  return `md5${createHash('md5').update(`${password}${user}`, 'utf8').digest('hex')}`;
}

/** Redshift's rules for a password: 8 to 64 printable ASCII characters, an upper- and a lowercase letter and a digit, none of ' " \\ / @ or space. */
function checkReportingPassword(password: string): void {
  const ok =
    password.length >= 8 &&
    password.length <= 64 &&
    /[A-Z]/.test(password) &&
    /[a-z]/.test(password) &&
    /[0-9]/.test(password) &&
    /^[\x21-\x7e]+$/.test(password) &&
    !/['"\\/@]/.test(password);
  if (!ok)
    throw new PipelineError(
      "The reporting user's password breaks Redshift's rules: 8 to 64 printable ASCII characters with an uppercase letter, a lowercase letter and a digit, and none of ' \" \\ / @ or space.",
      { code: 'REDSHIFT_REPORTING_PASSWORD' },
    );
}

/** A statement Redshift ran and failed: carries the SQL and Redshift's message. */
export class RedshiftStatementError extends PipelineError {
  constructor(
    readonly statementId: string,
    readonly failedSql: string | undefined,
    readonly redshiftMessage: string,
  ) {
    const copyHint =
      /^\s*COPY\b/i.test(failedSql ?? '') || /load|copy/i.test(redshiftMessage)
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

/** The name of every batch this adapter sends (the Data API lists statements by a name prefix). */
export const BATCH_NAME_PREFIX = 'rewards-pipeline-';

/**
 * The Redshift Data API's own limits, which no retry can get past.
 * - BatchExecuteStatement takes 1 to 40 SQL statements:
 *   https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_BatchExecuteStatement.html
 * - A query statement is at most 100 KB:
 *   https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-calling-considerations.html
 */
export const DATA_API_LIMITS = {
  statementsPerBatch: 40,
  statementBytes: 100 * 1024,
} as const;

/** A batch the Data API would refuse whatever the retries: more statements, or a longer one, than it takes. */
export class DataApiLimitError extends PipelineError {}

/** Throws DataApiLimitError when `sqls` would break a Data API limit; every batch and statement passes here. */
export function checkBatchWithinLimits(sqls: readonly string[]): void {
  if (sqls.length > DATA_API_LIMITS.statementsPerBatch) {
    throw new DataApiLimitError(
      `A batch of ${sqls.length} SQL statements is over the Redshift Data API's limit of ${DATA_API_LIMITS.statementsPerBatch} per BatchExecuteStatement; nothing was sent.`,
    );
  }
  for (const sql of sqls) {
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > DATA_API_LIMITS.statementBytes) {
      throw new DataApiLimitError(
        `A SQL statement of ${bytes} bytes is over the Redshift Data API's limit of ${DATA_API_LIMITS.statementBytes}; nothing was sent. It begins: ${sql.slice(0, 120)}`,
      );
    }
  }
}

/**
 * Where COPY reads a load's Parquet from: the folder of each run partition (`curated/<dataset>/ingest_date=…/run=…/`),
 * one COPY statement each, however many parts the run wrote. COPY from a prefix reads every object under it, and
 * the transform leaves exactly the run's parts in that folder (it deletes any an earlier attempt left), so the
 * folder is the same set of files as the keys. One statement per partition keeps a first load of millions of rows
 * within the Data API's 40 statements.
 */
export function copySources(keys: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    if (slash < 0 || !key.endsWith('.parquet'))
      throw new PipelineError(`COPY reads Parquet parts inside a run folder; got ${JSON.stringify(key)}`);
    folders.add(key.slice(0, slash + 1));
  }
  return [...folders];
}

/**
 * The pipeline's Warehouse on Redshift through the Data API: COPY the run's Parquet into temp staging tables,
 * merge both datasets, derive the facts of the affected rewards and refresh the views, all in one
 * BatchExecuteStatement (one transaction: all or nothing), then poll DescribeStatement with backoff. The plan is
 * this adapter's own (`redshift-load-plan.ts`), built on the rules' definitions of the latest row and the facts;
 * identifiers are quoted and values escaped.
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
    for (const reader of settings.readers ?? []) quoteUserName(reader);
    checkTimeZone(settings.reportingTimeZone ?? 'UTC');
    if (settings.reportingUser) {
      if (!isPlainUserName(settings.reportingUser.name))
        throw new PipelineError(
          `Not a plain reporting user name: ${JSON.stringify(settings.reportingUser.name)} (lowercase letters, digits and _).`,
          {
            code: 'REDSHIFT_USER_NAME',
          },
        );
      if (settings.reportingUser.password !== undefined) checkReportingPassword(settings.reportingUser.password);
    }
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * The statements of one run's load, in order, for one BatchExecuteStatement (one transaction): schema and
   * tables, a temp staging table per dataset filled by COPY ... FORMAT AS PARQUET (one per run folder), the merge
   * and the facts (`redshiftMergeStatements`), the dashboard's views (a retired one dropped, each made again in the
   * reporting time zone) and the run's ledger entry. Looker Studio's views follow in a batch of their own
   * (`viewBatchStatements`), with the reporting user's grants: beside a load they are more than the Data API's 40
   * statements leave room for, and they only read the dashboard's views, so making them again after the commit (and
   * again on a retry) changes nothing a reader sees but their definitions. Exposed so they can be inspected and run
   * on DuckDB.
   */
  loadStatements(load: RunLoad, options: { runId?: string; loadedAt?: Date } = {}): string[] {
    const staging = { transactions: 'staging_transactions', rewards: 'staging_rewards' };
    // The staging tables are temporary: they end with the batch's session, so no statement of the batch drops them.
    return [
      ...this.tableStatements(),
      ...LAKE_DATASETS.flatMap((dataset) => [
        `CREATE TEMP TABLE ${quoteIdentifier(staging[dataset])} (LIKE ${this.table(dataset)})`,
        ...copySources(load[dataset]).map(
          (folder) =>
            `COPY ${quoteIdentifier(staging[dataset])} FROM ${quoteLiteral(this.settings.locate(folder))} IAM_ROLE ${quoteLiteral(this.settings.iamRoleArn)} FORMAT AS PARQUET`,
        ),
      ]),
      ...redshiftMergeStatements({ staging, schema: this.schema }),
      ...this.views('dashboard'),
      ...(options.runId
        ? ledgerRecordSql({
            runId: options.runId,
            loadedAt: options.loadedAt ?? new Date(),
            dialect: REDSHIFT_DIALECT,
            schema: this.schema,
            staging: { transactions: quoteIdentifier(staging.transactions), rewards: quoteIdentifier(staging.rewards) },
            tables: this.tables(),
          })
        : []),
    ];
  }

  /**
   * The columns the curated schema gained since an earlier version made the tables (COPY needs them all, in
   * order), as a batch of its own before the load: how many there are depends on how old the tables are, and the
   * load's batch must stay within the Data API's statement limit whatever their age. An added column is nullable,
   * so adding it ahead of a load that then fails leaves nothing wrong.
   */
  upgradeStatements(present: readonly { table_name: string; column_name: string }[]): string[] {
    return (Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).flatMap((dataset) =>
      addMissingColumnsSql(
        dataset,
        present.filter((row) => row.table_name === dataset).map((row) => row.column_name),
        REDSHIFT_DIALECT,
        this.schema,
      ),
    );
  }

  async loadRun(load: RunLoad, options: { runId?: string } = {}): Promise<LoadResult> {
    const present = await this.query(presentColumnsSql(this.schema));
    const upgrade = this.upgradeStatements(
      present.map((row) => ({ table_name: String(row['table_name']), column_name: String(row['column_name']) })),
    );
    for (let start = 0; start < upgrade.length; start += DATA_API_LIMITS.statementsPerBatch) {
      await this.runBatch(upgrade.slice(start, start + DATA_API_LIMITS.statementsPerBatch), 'upgrade');
    }
    const sqls = this.loadStatements(load, options);
    const finished = await this.runBatch(sqls, 'load');
    await this.refreshViews();
    // Rows staged: what each dataset's COPY sub-statements loaded.
    const staged = { transactions: 0, rewards: 0 };
    for (const sub of finished.SubStatements ?? []) {
      const target = /^\s*COPY\s+"staging_(transactions|rewards)"/i.exec(sub.QueryString ?? '')?.[1] as LakeDataset | undefined;
      if (target) staged[target] += Number(sub.ResultRows ?? 0);
    }
    const [counts] = await this.query(tableCountsSql(this.schema));
    return {
      staged,
      inTable: {
        transactions: Number(counts?.['transactions'] ?? 0),
        rewards: Number(counts?.['rewards'] ?? 0),
        reward_facts: Number(counts?.['reward_facts'] ?? 0),
      },
      factsWithoutTransaction: Number(counts?.['facts_without_transaction'] ?? 0),
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
    return (await this.query(transactionIdsBetweenSql(from, before, this.schema))).map((row) => String(row['transaction_id']));
  }

  async rewardMonthSummary(before: string, excludeIds: readonly string[] = []): Promise<RewardMonthSummary> {
    return this.months.rewardMonthSummary(before, excludeIds);
  }

  async monthFigures(from: 'ledger' | 'tables'): Promise<Record<LakeDataset, MonthFigures>> {
    return this.months.monthFigures(from);
  }

  /** The ledger's figures per month, and the tables' own where they cannot answer (`warehouse-months.ts`). */
  private readonly months = monthFigureQueries({
    kept: async () => {
      const present = await this.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(this.schema)} AND table_name = ${quoteLiteral(LEDGER_MONTHS_TABLE)}`,
      );
      return present.length ? ledgerMonthsOf(await this.query(ledgerMonthsSelectSql(this.schema))) : null;
    },
    count: async (dataset) => (await this.tableCounts())[dataset],
    scan: async (dataset, options) =>
      (await this.tableCounts())[dataset]
        ? monthFiguresOf(await this.query(monthFiguresScanSql(REDSHIFT_DIALECT, dataset, { relation: this.table(dataset), ...options })))
        : {},
  });

  async rewardIdsUpdatedBetween(from: string, before: string): Promise<string[]> {
    if (!(await this.tableCounts()).rewards) return [];
    return (await this.query(rewardIdsUpdatedBetweenSql(from, before, this.schema))).map((row) => String(row['reward_id']));
  }

  async accounts(): Promise<string[]> {
    if (!(await this.tableCounts()).transactions) return [];
    return (await this.query(accountsSql(this.schema))).map((row) => String(row['user_id']));
  }

  async ledger(): Promise<LedgerEntry[]> {
    const present = await this.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(this.schema)} AND table_name = ${quoteLiteral(LEDGER_TABLE)}`,
    );
    if (!present.length) return [];
    return (await this.query(ledgerSelectSql(this.schema))).map(ledgerEntryOf);
  }

  async adoptLedger(runId: string): Promise<void> {
    await this.runBatch([...this.tableStatements(), ledgerAdoptSql(runId, new Date(), this.tables(), this.schema)], 'adopt-ledger');
  }

  /** Every fact derived again from the tables, and the ledger's count of them set: one batch (one transaction). */
  rederiveFactsStatements(): string[] {
    const facts = this.table('reward_facts');
    const columns = CURATED_SCHEMAS.reward_facts.map((spec) => quoteIdentifier(spec.name)).join(', ');
    const select = rewardFactsSelectSql({
      dialect: REDSHIFT_DIALECT,
      rewards: this.table('rewards'),
      transactions: this.table('transactions'),
    });
    return [
      ...this.tableStatements(),
      `DELETE FROM ${facts}`,
      `INSERT INTO ${facts} (${columns}) SELECT ${columns} FROM (${select}) AS facts`,
      ledgerFactsCountSql(facts, this.schema),
      ...this.views('dashboard'),
    ];
  }

  async rederiveFacts(): Promise<number> {
    await this.runBatch(this.rederiveFactsStatements(), 'rederive-facts');
    await this.refreshViews();
    return (await this.tableCounts()).reward_facts;
  }

  /** The views (the dashboard's, Looker Studio's, or all), in dependency order, in the reporting time zone. */
  private views(which: 'all' | 'dashboard' | 'reporting' = 'all'): string[] {
    return viewStatements(REDSHIFT_DIALECT, { schema: this.schema, timeZone: this.settings.reportingTimeZone, views: which });
  }

  /** What the reporting user may read: the schema's `report_*` views, nothing else (no table, no other view). */
  private reportingGrants(): string[] {
    const user = this.settings.reportingUser;
    if (!user) return [];
    const schema = quoteIdentifier(this.schema);
    return [
      `GRANT USAGE ON SCHEMA ${schema} TO ${quoteIdentifier(user.name)}`,
      `GRANT SELECT ON ${REPORTING_VIEWS.map((view) => `${schema}.${quoteIdentifier(view.name)}`).join(', ')} TO ${quoteIdentifier(user.name)}`,
    ];
  }

  /** One batch (one transaction): Looker Studio's views made again, and the reporting user's grants on them given again. */
  viewBatchStatements(): string[] {
    return [...this.healthTables(), ...this.views('reporting'), ...this.reportingGrants()];
  }

  /** The data-health tables Looker Studio's health views read (`@org/dashboard`'s `dataHealthTableStatements`). */
  private healthTables(): string[] {
    return dataHealthTableStatements(REDSHIFT_DIALECT, (name) => this.qualified(name));
  }

  /** The data's health as of this load, replacing what an earlier one kept: one batch (one transaction). */
  async recordDataHealth(health: DataHealth, recordedAt: Date): Promise<void> {
    await this.runBatch(
      [...this.healthTables(), ...dataHealthRowStatements(health, recordedAt, (name) => this.qualified(name))],
      'data-health',
    );
  }

  private qualified(name: string): string {
    return `${quoteIdentifier(this.schema)}.${quoteIdentifier(name)}`;
  }

  /**
   * The reporting user made when missing, its password set from the settings either way: one statement, as its
   * own batch, before the grants name it. CREATE USER cannot be told IF NOT EXISTS, so pg_user is asked first.
   */
  reportingUserStatements(exists: boolean): string[] {
    const user = this.settings.reportingUser;
    if (user?.password === undefined) return [];
    const hash = quoteLiteral(md5PasswordHash(user.password, user.name));
    return [
      exists ? `ALTER USER ${quoteIdentifier(user.name)} PASSWORD ${hash}` : `CREATE USER ${quoteIdentifier(user.name)} PASSWORD ${hash}`,
    ];
  }

  private async refreshViews(): Promise<void> {
    const user = this.settings.reportingUser;
    if (user?.password !== undefined) {
      const exists = (await this.query(`SELECT usename FROM pg_user WHERE usename = ${quoteLiteral(user.name)}`)).length > 0;
      await this.runBatch(this.reportingUserStatements(exists), 'reporting-user');
    }
    await this.runBatch(this.viewBatchStatements(), 'report-views');
  }

  private tables(): Record<CuratedDataset, string> {
    return { transactions: this.table('transactions'), rewards: this.table('rewards'), reward_facts: this.table('reward_facts') };
  }

  async tableCounts(): Promise<Record<CuratedDataset, number>> {
    const present = new Set(
      (await this.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(this.schema)}`)).map((row) =>
        String(row['table_name']),
      ),
    );
    if (!(Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).every((dataset) => present.has(dataset))) {
      const counts = { transactions: 0, rewards: 0, reward_facts: 0 };
      for (const dataset of Object.keys(counts) as CuratedDataset[]) {
        if (present.has(dataset))
          counts[dataset] = Number((await this.query(`SELECT count(*) AS n FROM ${this.table(dataset)}`))[0]?.['n'] ?? 0);
      }
      return counts;
    }
    const [counts] = await this.query(tableCountsSql(this.schema));
    return {
      transactions: Number(counts?.['transactions'] ?? 0),
      rewards: Number(counts?.['rewards'] ?? 0),
      reward_facts: Number(counts?.['reward_facts'] ?? 0),
    };
  }

  /**
   * A rebuild is made in a schema of its own beside this one (`<schema>__rebuild`, created by the loader, who may
   * create schemas), over as many batches as its runs take; `swapIn` is one batch (one transaction): this schema
   * renamed away, the new one renamed in, its views made again under their name, the readers' grants given again
   * (a schema's grants stay with the schema renamed away), and the old schema dropped. Renaming a schema to keep a
   * copy while a new version is built is what ALTER SCHEMA is for
   * (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_SCHEMA.html); the owner may rename it.
   */
  async stageRebuild(options: { resume?: boolean } = {}): Promise<StagedRebuild> {
    const staged = new RedshiftWarehouse(this.client, { ...this.settings, schema: this.stagedSchema() });
    const stagedSchema = quoteIdentifier(this.stagedSchema());
    if (!options.resume)
      await this.runBatch([`DROP SCHEMA IF EXISTS ${stagedSchema} CASCADE`, `CREATE SCHEMA ${stagedSchema}`], 'rebuild-stage');
    return {
      warehouse: staged,
      swapIn: async () => void (await this.runBatch(this.swapStatements(), 'rebuild-swap')),
      discard: async () => void (await this.runBatch([`DROP SCHEMA IF EXISTS ${stagedSchema} CASCADE`], 'rebuild-discard')),
      release: async () => undefined,
    };
  }

  /** The one batch that puts a staged rebuild in this schema's place (see `stageRebuild`). */
  swapStatements(): string[] {
    const schema = quoteIdentifier(this.schema);
    const old = quoteIdentifier(`${this.schema}__old`);
    const readers = (this.settings.readers ?? []).map(quoteUserName).join(', ');
    return [
      `DROP SCHEMA IF EXISTS ${old} CASCADE`,
      // A lost schema has nothing to rename away: an empty one stands in for it.
      `CREATE SCHEMA IF NOT EXISTS ${schema}`,
      `ALTER SCHEMA ${schema} RENAME TO ${old}`,
      `ALTER SCHEMA ${quoteIdentifier(this.stagedSchema())} RENAME TO ${schema}`,
      ...this.healthTables(),
      ...this.views(),
      ...(readers
        ? [
            `GRANT USAGE ON SCHEMA ${schema} TO ${readers}`,
            `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${readers}`,
            `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${readers}`,
          ]
        : []),
      ...this.reportingGrants(),
      `DROP SCHEMA ${old} CASCADE`,
    ];
  }

  private stagedSchema(): string {
    return `${this.schema}__rebuild`;
  }

  /** Drops the views and tables in one batch, for a rebuild from the lake. */
  async reset(): Promise<void> {
    const sqls = [
      ...[...ALL_VIEWS.map((view) => view.name).reverse(), ...RETIRED_VIEWS].map(
        (name) => `DROP VIEW IF EXISTS ${quoteIdentifier(this.schema)}.${quoteIdentifier(name)}`,
      ),
      ...(Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).map((dataset) => `DROP TABLE IF EXISTS ${this.table(dataset)}`),
      `DROP TABLE IF EXISTS ${quoteIdentifier(this.schema)}.${quoteIdentifier(LEDGER_TABLE)}`,
      `DROP TABLE IF EXISTS ${quoteIdentifier(this.schema)}.${quoteIdentifier(LEDGER_MONTHS_TABLE)}`,
    ];
    await this.runBatch(sqls, 'reset');
  }

  /**
   * One BatchExecuteStatement (one transaction), once no earlier batch of this pipeline still runs, waited for
   * to its end. A batch over the Data API's limits is refused here, before anything is sent: AWS would reject it
   * with a ValidationException that no retry can cure.
   */
  private async runBatch(sqls: readonly string[], name: string): Promise<DescribeStatementCommandOutput> {
    checkBatchWithinLimits(sqls);
    await this.refuseWhileBatchRuns();
    const { Id } = await this.send<BatchExecuteStatementCommandOutput>(
      new BatchExecuteStatementCommand({ ...this.targetParams(), Sqls: [...sqls], StatementName: `${BATCH_NAME_PREFIX}${name}` }),
    );
    return this.waitFor(Id as string, sqls);
  }

  /**
   * A batch keeps running in Redshift when the Lambda that sent it dies (its timeout, an out-of-memory): the
   * Catch path then frees the run lock, and the next run would merge beside it. So no load or reset starts while
   * one of this role's batches is still submitted, picked or started: a WarehouseInUseError, which the state
   * machine retries every minute for 20 minutes, until the old batch has ended (committed or rolled back whole).
   */
  private async refuseWhileBatchRuns(): Promise<void> {
    for (const status of ['SUBMITTED', 'PICKED', 'STARTED'] as const) {
      const { Statements } = await this.send<ListStatementsCommandOutput>(
        new ListStatementsCommand({ StatementName: BATCH_NAME_PREFIX, Status: status, RoleLevel: true, MaxResults: 10 }),
      );
      const running = Statements?.[0];
      if (running) {
        throw new WarehouseInUseError(
          `An earlier batch of this pipeline (${running.StatementName}, ${running.Id}) is still ${status} in Redshift, probably sent by a Lambda that has since died; loading now would run beside it. Retry once it ends, or cancel it: aws redshift-data cancel-statement --id ${running.Id}`,
        );
      }
    }
  }

  private tableStatements(): string[] {
    return [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`,
      ...(Object.keys(CURATED_SCHEMAS) as CuratedDataset[]).map((dataset) =>
        createTableSql(dataset, REDSHIFT_DIALECT, { schema: this.schema, layout: TABLE_LAYOUT[dataset], primaryKey: true }),
      ),
      ledgerTableSql(REDSHIFT_DIALECT, this.schema),
      ledgerMonthsTableSql(REDSHIFT_DIALECT, this.schema),
    ];
  }

  private table(dataset: CuratedDataset): string {
    return `${quoteIdentifier(this.schema)}.${quoteIdentifier(dataset)}`;
  }

  /** Runs one statement and reads every page of its result, typed by column. */
  async query(sql: string): Promise<Record<string, RedshiftValue>[]> {
    checkBatchWithinLimits([sql]);
    const { Id } = await this.send<ExecuteStatementCommandOutput>(new ExecuteStatementCommand({ ...this.targetParams(), Sql: sql }));
    await this.waitFor(Id as string, [sql]);
    const rows: Record<string, RedshiftValue>[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.send<GetStatementResultCommandOutput>(new GetStatementResultCommand({ Id, NextToken: nextToken }));
      const names = (page.ColumnMetadata ?? []).map((column) => column.name ?? column.label ?? '?');
      for (const record of page.Records ?? []) rows.push(Object.fromEntries(record.map((field, i) => [names[i], fieldValue(field)])));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  /**
   * One Data API call. Throttling and the service's own 5xx failures are TransientError, which the state machine
   * retries with backoff; anything else (a bad request, access denied) fails the step at once.
   */
  private async send<Output>(command: { input: unknown }): Promise<Output> {
    try {
      return (await this.client.send(command as never)) as Output;
    } catch (error) {
      const { name, $fault, $retryable } = error as { name?: string; $fault?: string; $retryable?: unknown };
      if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(name ?? '') || $fault === 'server' || $retryable) {
        throw new TransientError(`The Redshift Data API failed for a moment (${name}): ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  private targetParams() {
    return dataApiTargetParams(this.settings.target);
  }

  /** Polls DescribeStatement with backoff (250 ms doubling to 5 s) until it finishes, fails or times out. */
  private async waitFor(id: string, sqls: readonly string[]): Promise<DescribeStatementCommandOutput> {
    const deadline = Date.now() + (this.settings.timeoutMs ?? 15 * 60_000);
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      const statement = await this.send<DescribeStatementCommandOutput>(new DescribeStatementCommand({ Id: id }));
      if (statement.Status === 'FINISHED') return statement;
      if (statement.Status === 'FAILED' || statement.Status === 'ABORTED') {
        const failed = statement.SubStatements?.find((sub) => sub.Status === 'FAILED');
        throw new RedshiftStatementError(
          id,
          failed?.QueryString ?? (sqls.length === 1 ? sqls[0] : undefined),
          failed?.Error ?? statement.Error ?? statement.Status,
        );
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
