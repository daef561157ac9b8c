import {
  AlreadyExistsException,
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetCrawlerCommand,
  GetTableCommand,
  GlueClient,
  StartCrawlerCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REWARDS_SCHEMA } from '@org/rewards-transform';
import { GLUE_PARTITIONS_PER_BATCH, GlueCatalog, GlueCatalogError } from './glue-catalog';

const glue = mockClient(GlueClient);
const meta = { $metadata: {} };
const notFound = () => new EntityNotFoundException({ message: 'not found', ...meta });
const exists = () => new AlreadyExistsException({ message: 'exists', ...meta });
const partition = (dataset: 'transactions' | 'rewards', runId = 'r1') => ({
  dataset,
  ingestDate: '2026-11-28',
  runId,
  keys: [`curated/${dataset}/ingest_date=2026-11-28/run=${runId}/part-00000.parquet`],
});
const catalog = (extra = {}) =>
  new GlueCatalog(new GlueClient({ region: 'eu-west-2' }), {
    databaseName: 'rewards',
    bucket: 'data-bucket',
    prefix: 'pipeline',
    sleep: async () => undefined,
    ...extra,
  });

describe('GlueCatalog', () => {
  beforeEach(() => {
    glue.reset();
    glue.on(CreateDatabaseCommand).resolves({});
    glue.on(GetTableCommand).rejects(notFound());
    glue.on(CreateTableCommand).resolves({});
    glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
  });

  it('creates the database and the two lake tables (the facts live in the warehouse) with the curated columns and partition keys', async () => {
    await catalog().registerPartitions([partition('rewards')]);
    expect(glue).toHaveReceivedCommandWith(CreateDatabaseCommand, { DatabaseInput: expect.objectContaining({ Name: 'rewards' }) });
    expect(glue).toHaveReceivedCommandTimes(CreateTableCommand, 2);
    expect(glue.commandCalls(CreateTableCommand).map((call) => call.args[0].input.TableInput?.Name)).toEqual(['transactions', 'rewards']);
    const facts = glue
      .commandCalls(CreateTableCommand)
      .map((call) => call.args[0].input.TableInput)
      .find((table) => table?.Name === 'rewards');
    expect(facts).toMatchObject({
      TableType: 'EXTERNAL_TABLE',
      PartitionKeys: [
        { Name: 'ingest_date', Type: 'string' },
        { Name: 'run', Type: 'string' },
      ],
      StorageDescriptor: {
        Location: 's3://data-bucket/pipeline/curated/rewards/',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      },
    });
    const columns = facts?.StorageDescriptor?.Columns ?? [];
    expect(columns.map((column) => column.Name)).toEqual(REWARDS_SCHEMA.map((spec) => spec.name));
    expect(columns.find((column) => column.Name === 'fiat_amount_rewarded')?.Type).toBe('decimal(18,6)');
    expect(columns.find((column) => column.Name === 'created_at')?.Type).toBe('timestamp');
  });

  it('registers partitions with their values and location, taking existing ones as done', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [{ PartitionValues: ['2026-11-28', 'r1'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' } }],
    });
    glue.on(CreateDatabaseCommand).rejects(exists());
    await catalog().registerPartitions([partition('transactions'), partition('rewards')]);
    expect(glue).toHaveReceivedCommandWith(BatchCreatePartitionCommand, {
      DatabaseName: 'rewards',
      TableName: 'transactions',
      PartitionInputList: [
        expect.objectContaining({
          Values: ['2026-11-28', 'r1'],
          StorageDescriptor: expect.objectContaining({
            Location: 's3://data-bucket/pipeline/curated/transactions/ingest_date=2026-11-28/run=r1/',
          }),
        }),
      ],
    });
  });

  it('sends at most 100 partitions per call', async () => {
    await catalog().registerPartitions(Array.from({ length: 250 }, (_, i) => partition('rewards', `r${i}`)));
    const sizes = glue.commandCalls(BatchCreatePartitionCommand).map((call) => call.args[0].input.PartitionInputList?.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it("fills a call to Glue's limit of 100 partitions and no further", async () => {
    expect(GLUE_PARTITIONS_PER_BATCH).toBe(100);
    for (const [count, calls] of [
      [100, [100]],
      [101, [100, 1]],
    ] as const) {
      glue.resetHistory();
      await catalog().registerPartitions(Array.from({ length: count }, (_, i) => partition('rewards', `r${i}`)));
      expect(glue.commandCalls(BatchCreatePartitionCommand).map((call) => call.args[0].input.PartitionInputList?.length)).toEqual(calls);
    }
  });

  it('raises on a partition Glue refuses for another reason', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        { PartitionValues: ['2026-11-28', 'r1'], ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'bad location' } },
      ],
    });
    await expect(catalog().registerPartitions([partition('rewards')])).rejects.toThrow(GlueCatalogError);
  });

  it('adds the columns the schema gained to an existing table, and leaves a current one alone', async () => {
    for (const name of ['transactions', 'rewards'] as const) {
      glue
        .on(GetTableCommand, { Name: name })
        .resolves({ Table: { Name: name, StorageDescriptor: catalog().tableInput(name).StorageDescriptor } });
    }
    glue
      .on(GetTableCommand, { Name: 'rewards' })
      .resolves({ Table: { Name: 'rewards', StorageDescriptor: { Columns: [{ Name: 'reward_id', Type: 'string' }] } } });
    await catalog().registerPartitions([partition('rewards')]);
    expect(glue).toHaveReceivedCommandTimes(UpdateTableCommand, 1);
    expect(glue).toHaveReceivedCommandWith(UpdateTableCommand, { TableInput: expect.objectContaining({ Name: 'rewards' }) });
    expect(glue).not.toHaveReceivedCommand(CreateTableCommand);
  });

  it('makes throttling, concurrent updates and 5xx a TransientError (the state machine retries the step), with no retry loop of its own', async () => {
    for (const failure of [
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      Object.assign(new Error('table changed'), { name: 'ConcurrentModificationException' }),
      Object.assign(new Error('oops'), { name: 'InternalServiceException', $fault: 'server' }),
    ]) {
      glue.reset();
      glue.on(CreateDatabaseCommand).resolves({});
      glue.on(GetTableCommand).rejects(notFound());
      glue.on(CreateTableCommand).resolves({});
      glue.on(BatchCreatePartitionCommand).rejects(failure);
      await expect(catalog().registerPartitions([partition('rewards')])).rejects.toMatchObject({ name: 'TransientError', cause: failure });
      expect(glue).toHaveReceivedCommandTimes(BatchCreatePartitionCommand, 1);
    }
    glue.on(BatchCreatePartitionCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException', $fault: 'client' }));
    await expect(catalog().registerPartitions([partition('rewards')])).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('starts a named crawler and waits until it is ready again', async () => {
    glue.on(StartCrawlerCommand).resolves({});
    glue
      .on(GetCrawlerCommand)
      .resolvesOnce({ Crawler: { State: 'RUNNING' } })
      .resolves({ Crawler: { State: 'READY', LastCrawl: { Status: 'SUCCEEDED' } } });
    await catalog({ crawlerName: 'rewards-crawler' }).registerPartitions([partition('rewards')]);
    expect(glue).toHaveReceivedCommandWith(StartCrawlerCommand, { Name: 'rewards-crawler' });
    expect(glue).toHaveReceivedCommandTimes(GetCrawlerCommand, 2);
  });
});
