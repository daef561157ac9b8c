import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

jest.setTimeout(120_000);

// transformRun writes tables of 262,144 rows or more on a thread of their own, in row groups of 65,536 rows, while
// it goes on with the rest. Run as any project runs the built library (a child process, Node's own resolution of
// @org/rewards-transform), and read back by DuckDB beside the same tables written in the caller's thread: the
// same rows, the same types.
const root = join(__dirname, '..', '..');
const ROWS = 300_000;

/**
 * Runs transformRun on `ROWS` synthetic rows per dataset in a child process; writes each dataset's Parquet as the
 * run made it (`thread-*`) and as the caller's thread writes its final table (`here-*`) into `dir`, and answers the
 * run's quality report. `transactionsEdit`, JavaScript over `csv`, changes the synthetic input first.
 */
function runInChild(dir: string, transactionsEdit = ''): { rowsIn: number; rowsOut: number; duplicatesRemoved: number } {
  const script = `
    const { writeFileSync } = require('node:fs');
    const { join } = require('node:path');
    const { transformRun, tableToParquet, CURATED_SCHEMAS, REWARD_FACTS_SCHEMA } = require('@org/rewards-transform');
    const { syntheticRawCsv } = require(${JSON.stringify(join(root, 'tools', 'dist', 'index.js'))});
    const csv = syntheticRawCsv(${ROWS});
    ${transactionsEdit}
    const output = transformRun({ ...csv, withFacts: true });
    const schemas = { ...CURATED_SCHEMAS, reward_facts: REWARD_FACTS_SCHEMA };
    for (const [name, bytes] of Object.entries(output.parquet)) {
      writeFileSync(join(process.argv[1], 'thread-' + name + '.parquet'), bytes);
      writeFileSync(join(process.argv[1], 'here-' + name + '.parquet'), tableToParquet(output.tables[name], schemas[name]));
    }
    process.stdout.write(JSON.stringify(output.quality.transactions));
  `;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script, dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
}

/** The file the run wrote against the same table written in the caller's thread, read back by DuckDB. */
async function expectSameAsHere(dir: string, name: string): Promise<number> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const [thread, here] = [join(dir, `thread-${name}.parquet`), join(dir, `here-${name}.parquet`)];
  const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
  expect(await rows(`DESCRIBE SELECT * FROM '${thread}'`)).toEqual(await rows(`DESCRIBE SELECT * FROM '${here}'`));
  const differences = await rows(
    `SELECT count(*)::INT AS n FROM ((SELECT * FROM '${thread}' EXCEPT ALL SELECT * FROM '${here}') UNION ALL (SELECT * FROM '${here}' EXCEPT ALL SELECT * FROM '${thread}'))`,
  );
  expect(Number(differences[0]['n'])).toBe(0);
  return Number((await rows(`SELECT count(*)::INT AS n FROM '${thread}'`))[0]['n']);
}

describe('transformRun with the Parquet thread', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parquet-thread-'));
    runInChild(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['transactions', 'rewards', 'reward_facts'])(
    '%s: the same rows and types as written in the caller thread, in row groups',
    async (name) => {
      const connection = await (await DuckDBInstance.create(':memory:')).connect();
      const [thread, here] = [join(dir, `thread-${name}.parquet`), join(dir, `here-${name}.parquet`)];
      const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
      expect(await rows(`DESCRIBE SELECT * FROM '${thread}'`)).toEqual(await rows(`DESCRIBE SELECT * FROM '${here}'`));
      const [count] = await rows(`SELECT count(*)::INT AS n FROM '${thread}'`);
      expect(Number(count['n'])).toBeGreaterThan(250_000);
      const differences = await rows(
        `SELECT count(*)::INT AS n FROM ((SELECT * FROM '${thread}' EXCEPT ALL SELECT * FROM '${here}') UNION ALL (SELECT * FROM '${here}' EXCEPT ALL SELECT * FROM '${thread}'))`,
      );
      expect(Number(differences[0]['n'])).toBe(0);
      const groups = async (file: string) =>
        Number((await rows(`SELECT count(DISTINCT row_group_id)::INT AS n FROM parquet_metadata('${file}')`))[0]['n']);
      // The thread wrote it (row groups of 65,536 rows); the caller's thread writes one.
      expect(await groups(thread)).toBe(Math.ceil(Number(count['n']) / 65_536));
      expect(await groups(here)).toBe(1);
    },
  );
});

// The transactions' rows go to the thread as they are read; they are the table only if de-duplication removes
// none. Here the source repeats transactions (the last rows again, and a row rejected among them): the write of
// the rows as read is dropped and the de-duplicated table written instead.
describe('transformRun with the Parquet thread, when the source repeats transactions', () => {
  let dir: string;
  let quality: ReturnType<typeof runInChild>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parquet-thread-repeats-'));
    quality = runInChild(
      dir,
      `const lines = csv.transactionsCsv.trimEnd().split('\\n');
       const bad = lines[1].split(','); bad[4] = 'not-a-number';
       csv.transactionsCsv = [...lines, bad.join(','), ...lines.slice(-500)].join('\\n') + '\\n';`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the de-duplicated transactions, not the rows as read', async () => {
    expect(quality.duplicatesRemoved).toBe(500);
    expect(quality.rowsIn).toBe(ROWS + 501);
    expect(await expectSameAsHere(dir, 'transactions')).toBe(quality.rowsOut);
  });

  it.each(['rewards', 'reward_facts'])('%s: still the same as written in the caller thread', async (name) => {
    expect(await expectSameAsHere(dir, name)).toBeGreaterThan(250_000);
  });
});

// With the thread open for the rewards, a transactions file of no rows: the thread's writer learns the columns
// from the first chunk it gets, and it gets none, so the ParquetThread writes that empty file itself.
describe('transformRun with the Parquet thread, when the transactions have no rows', () => {
  let dir: string;
  let quality: ReturnType<typeof runInChild>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parquet-thread-empty-'));
    quality = runInChild(dir, `csv.transactionsCsv = csv.transactionsCsv.slice(0, csv.transactionsCsv.indexOf('\\n') + 1);`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an empty transactions file with every column, and the rewards and facts in full', async () => {
    expect(quality.rowsIn).toBe(0);
    expect(await expectSameAsHere(dir, 'transactions')).toBe(0);
    expect(await expectSameAsHere(dir, 'reward_facts')).toBeGreaterThan(250_000);
  });
});
