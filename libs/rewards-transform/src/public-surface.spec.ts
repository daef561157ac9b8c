import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from './index';
import * as internal from './internal';

// The package's surface is what its README documents; the engine's parts are behind ./internal, and danfojs is
// an optional peer that only ./dataframe loads.
const DOCUMENTED = [
  'CURATED_SCHEMAS',
  'CsvFormatError',
  'DATASET_KEYS',
  'DATASET_VERSIONS',
  'LAKE_DATASETS',
  'MONEY_SCALE',
  'PLU_PRICE_NOTES',
  'PLU_SCALE',
  'RATE_SCALE',
  'RAW_REWARD_COLUMNS',
  'RAW_TRANSACTION_COLUMNS',
  'REQUIRED_REWARD_COLUMNS',
  'REQUIRED_TRANSACTION_COLUMNS',
  'REWARDS_SCHEMA',
  'REWARD_FACTS_SCHEMA',
  'RawInputError',
  'SchemaInvariantError',
  'TRANSACTIONS_SCHEMA',
  'TransformError',
  'buildRewardFacts',
  'canonicalRowText',
  'canonicalRowTextSql',
  'cleanRewards',
  'cleanTransactions',
  'csvCell',
  'digestSql',
  'dedupeDataset',
  'formatCsv',
  'latestFirstOrderSql',
  'latestKeysSql',
  'latestRowsSql',
  'ledgerDigest',
  'ledgerDigestColumns',
  'ledgerDigestSql',
  'merchantCategory',
  'mergeDatasetQuality',
  'parseCsv',
  'rowDigestColumns',
  'rowsDigest',
  'rewardFactsSelectSql',
  'rewardFactsSqlExpressions',
  'tableToParquet',
  'transformDataset',
  'transformRun',
];

describe('public surface', () => {
  const root = join(__dirname, '..');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
  };

  it('the main entry exports exactly what the README documents', () => {
    expect(Object.keys(api).sort()).toEqual([...DOCUMENTED].sort());
    for (const name of DOCUMENTED)
      expect({ name, documented: new RegExp(`\x60${name}[\x60(]`).test(readme) }).toEqual({ name, documented: true });
  });

  it('keeps the engine behind ./internal, which the README names as having no promise', () => {
    for (const name of [
      'KeyIndex',
      'IpcArena',
      'tableToArrowIpc',
      'cleanRawCsv',
      'cleanRaw',
      'dedupeLatest',
      'scaledDecimal',
      'parquetToTable',
    ]) {
      expect({ name, onMain: name in api }).toEqual({ name, onMain: false });
      expect(name in internal).toBe(true);
    }
    expect(Object.keys(manifest.exports)).toEqual(['.', './dataframe', './internal', './package.json']);
    expect(readme).toContain('`@org/rewards-transform/internal`');
  });

  it('has danfojs-node as an optional peer dependency only', () => {
    expect(manifest.dependencies['danfojs-node']).toBeUndefined();
    expect(manifest.peerDependencies['danfojs-node']).toBeDefined();
    expect(manifest.peerDependenciesMeta['danfojs-node']).toEqual({ optional: true });
  });

  it('loads its main entry where danfojs-node is not installed, and only ./dataframe needs it', () => {
    jest.isolateModules(() => {
      jest.doMock('danfojs-node', () => {
        throw Object.assign(new Error("Cannot find module 'danfojs-node'"), { code: 'MODULE_NOT_FOUND' });
      });
      const main = require('./index') as typeof api;
      const output = main.transformRun({
        transactionsCsv: 'id,currency,amount,date\nt1,GBP,-100,2026-01-01T00:00:00Z\n',
        rewardsCsv: 'id,amount,createdAt\n',
      });
      expect(output.quality.transactions.rowsOut).toBe(1);
      expect(() => require('./dataframe-entry')).toThrow("Cannot find module 'danfojs-node'");
    });
    jest.dontMock('danfojs-node');
  });

  it('bridges to danfojs where it is installed (./dataframe)', () => {
    const { tableToDataFrame, dataFrameToRawColumns } = require('./dataframe-entry') as typeof import('./dataframe-entry');
    const output = api.transformRun({
      transactionsCsv: 'id,currency,amount,date\nt1,GBP,-1250,2026-01-01T00:00:00Z\n',
      rewardsCsv: 'id,amount,createdAt\n',
    });
    const frame = tableToDataFrame(output.tables.transactions, api.CURATED_SCHEMAS.transactions);
    expect(frame.shape).toEqual([1, api.CURATED_SCHEMAS.transactions.length]);
    expect(frame['transaction_amount'].values).toEqual([12.5]);
    expect(dataFrameToRawColumns(frame).columns[0]).toEqual(['t1']);
  });
});
