import { formatCsv, type LakeDataset } from '@org/rewards-transform';
import { objectLayout } from '../object-layout';
import type { PipelineContext } from '../pipeline-context';
import type { RunManifest } from '../run-manifest';
import { putTracked } from './step-record';

/** Rows per raw part: a part's transform stays within a few hundred MB, whatever the size of the run. */
export const DEFAULT_PART_ROWS = 100_000;

/**
 * Lands one dataset's raw rows as CSV parts of at most `partRows` rows, as they arrive, each put whole and
 * tracked in the manifest, so extract never holds more than one part of rows.
 */
export class RawPartWriter<Row extends object> {
  readonly keys: string[] = [];
  rowCount = 0;
  private rows: Row[] = [];

  constructor(
    private readonly context: Pick<PipelineContext, 'store'>,
    private readonly manifest: RunManifest,
    private readonly dataset: LakeDataset,
    private readonly columns: readonly string[],
    private readonly partRows: number = DEFAULT_PART_ROWS,
    /** The number of this writer's first part: a second writer of the same dataset in one run continues the first's. */
    private readonly firstPart = 0,
  ) {}

  async add(rows: readonly Row[]): Promise<void> {
    for (const row of rows) {
      this.rows.push(row);
      this.rowCount += 1;
      if (this.rows.length >= this.partRows) await this.flush();
    }
  }

  /** Writes what is left (an empty part when nothing came, so every run has at least one) and answers the keys. */
  async finish(): Promise<string[]> {
    if (this.rows.length > 0 || (this.keys.length === 0 && this.firstPart === 0)) await this.flush();
    return this.keys;
  }

  /** Forgets everything written so far (the source is being read again from the start). */
  async restart(): Promise<void> {
    for (const key of this.keys) {
      await this.context.store.delete(key);
      delete this.manifest.checksums[key];
    }
    this.keys.length = 0;
    this.rows = [];
    this.rowCount = 0;
  }

  private async flush(): Promise<void> {
    const key = objectLayout.raw(this.dataset, this.manifest.ingestDate, this.manifest.runId, this.firstPart + this.keys.length);
    await putTracked(this.context, this.manifest, key, formatCsv(this.columns, this.rows as never), 'text/csv');
    this.keys.push(key);
    this.rows = [];
  }
}
