import type { DeepVerifier, LoadedRun } from '@org/pipeline';
import { DUCKDB_DIALECT, quoteIdentifier, quoteLiteral } from '@org/sql-dialect';
import {
  CURATED_SCHEMAS,
  DATASET_KEYS,
  LAKE_DATASETS,
  digestSql,
  latestFirstOrderSql,
  latestKeysSql,
  ledgerDigestColumns,
  ledgerDigestSql,
  rewardFactsSelectSql,
  rowDigestColumns,
  type LakeDataset,
} from '@org/rewards-transform';
import type { DuckDbDatabase } from './duckdb-warehouse';
import { storeTable } from './duckdb-load-plan';

type Digest = { rows: number; digest: string };

/**
 * `verify --deep` on DuckDB: reads the committed runs' Parquet again and digests it with the rules' one definition
 * (`@org/rewards-transform`'s digest), to compare with the manifests, the ledger and the tables. Reads only.
 */
export class DuckDbDeepVerifier implements DeepVerifier {
  constructor(
    private readonly database: DuckDbDatabase,
    private readonly localFile: (key: string) => string | Promise<string>,
  ) {}

  async runDigests(run: LoadedRun): Promise<Record<LakeDataset, Digest>> {
    const result = {} as Record<LakeDataset, Digest>;
    for (const dataset of LAKE_DATASETS) {
      const files = await Promise.all(run.parts[dataset].map((key) => this.localFile(key)));
      result[dataset] = files.length
        ? await this.digest(ledgerDigestSql(dataset, `(${this.curatedRows(dataset, files)})`, DUCKDB_DIALECT))
        : { rows: 0, digest: '0' };
    }
    return result;
  }

  async tablesAgainstLake(runs: readonly LoadedRun[]): Promise<{ name: string; warehouse: string; lake: string }[]> {
    const results: { name: string; warehouse: string; lake: string }[] = [];
    for (const dataset of LAKE_DATASETS) {
      const files: { path: string; order: number }[] = [];
      for (const [order, run] of runs.entries())
        for (const key of run.parts[dataset]) files.push({ path: await this.localFile(key), order: order + 1 });
      const table = storeTable(dataset);
      const lakeRows = files.length ? `(${this.latestRows(dataset, files)})` : `(SELECT * FROM ${table} LIMIT 0)`;
      const keys = await this.digest(digestSql(ledgerDigestColumns(dataset), `(${latestKeysSql(dataset, table)})`, DUCKDB_DIALECT));
      const lakeKeys = await this.digest(digestSql(ledgerDigestColumns(dataset), `(${latestKeysSql(dataset, lakeRows)})`, DUCKDB_DIALECT));
      results.push({ name: `${dataset} (keys and versions)`, warehouse: show(keys), lake: show(lakeKeys) });
      const rows = await this.digest(digestSql(rowDigestColumns(dataset), table, DUCKDB_DIALECT));
      const lakeWhole = await this.digest(digestSql(rowDigestColumns(dataset), lakeRows, DUCKDB_DIALECT));
      results.push({ name: `${dataset} (whole rows)`, warehouse: show(rows), lake: show(lakeWhole) });
    }
    const facts = await this.digest(digestSql(rowDigestColumns('reward_facts'), storeTable('reward_facts'), DUCKDB_DIALECT));
    const derived = await this.digest(
      digestSql(
        rowDigestColumns('reward_facts'),
        `(${rewardFactsSelectSql({ dialect: DUCKDB_DIALECT, rewards: storeTable('rewards'), transactions: storeTable('transactions') })})`,
        DUCKDB_DIALECT,
      ),
    );
    results.push({ name: 'reward_facts (against a fresh derivation from the tables)', warehouse: show(facts), lake: show(derived) });
    return results;
  }

  /** A dataset's curated columns, typed as the tables', from Parquet files. */
  private curatedRows(dataset: LakeDataset, files: readonly string[], extra = ''): string {
    const columns = CURATED_SCHEMAS[dataset]
      .map((spec) => `CAST(${quoteIdentifier(spec.name)} AS ${DUCKDB_DIALECT.columnType(spec)}) AS ${quoteIdentifier(spec.name)}`)
      .join(', ');
    return `SELECT ${columns}${extra} FROM read_parquet([${files.map(quoteLiteral).join(', ')}], filename = true)`;
  }

  /**
   * The row of each key the warehouse's merges keep: the latest version, then the later load, then the greatest md5
   * of the canonical row (the rules' order, `latestFirstOrderSql`).
   */
  private latestRows(dataset: LakeDataset, files: readonly { path: string; order: number }[]): string {
    const orders = files.map((file) => `(${quoteLiteral(file.path)}, ${file.order})`).join(', ');
    const columns = CURATED_SCHEMAS[dataset].map((spec) => quoteIdentifier(spec.name)).join(', ');
    const ranked =
      `SELECT ${columns}, ROW_NUMBER() OVER (PARTITION BY ${quoteIdentifier(DATASET_KEYS[dataset])} ORDER BY ` +
      `${latestFirstOrderSql(dataset, DUCKDB_DIALECT, { laterLoadFirst: '"load_order" DESC' })}) AS "lake_rank" ` +
      `FROM (${this.curatedRows(
        dataset,
        files.map((file) => file.path),
        ', "filename"',
      )}) AS rows JOIN (VALUES ${orders}) AS loads("file", "load_order") ON rows."filename" = loads."file"`;
    return `SELECT ${columns} FROM (${ranked}) AS ranked WHERE "lake_rank" = 1`;
  }

  private async digest(sql: string): Promise<Digest> {
    const [row] = await this.database.query<{ rows: number; digest: string }>(sql);
    return { rows: Number(row.rows), digest: String(row.digest) };
  }
}

const show = (digest: Digest) => `${digest.rows} rows, digest ${digest.digest}`;
