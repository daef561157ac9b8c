import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ObjectNotFoundError, TransientError } from '@org/pipeline';
import { startS3rver, type RunningS3rver } from './testing/s3rver-process';
import { mapS3Error, S3_KEYS_PER_LIST_PAGE, S3AccessDeniedError, S3ObjectStore } from './s3-object-store';

jest.setTimeout(60_000);

// Against a real S3-compatible server on 127.0.0.1 (s3rver), started by the test.
describe('S3ObjectStore on s3rver', () => {
  let server: RunningS3rver;
  let client: S3Client;
  const bucket = 'rewards-test';

  beforeAll(async () => {
    server = await startS3rver(bucket);
    client = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  it('puts, gets, streams, checks and deletes under a prefix', async () => {
    const store = new S3ObjectStore(client, { bucket, prefix: 'pipeline' });
    await store.put('runs/a/manifest.json', '{"ok":true}', { contentType: 'application/json' });
    expect(Buffer.from(await store.get('runs/a/manifest.json')).toString()).toBe('{"ok":true}');
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getStream('runs/a/manifest.json')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('{"ok":true}');
    expect(await store.exists('runs/a/manifest.json')).toBe(true);
    expect(await store.exists('runs/b/manifest.json')).toBe(false);
    expect(store.locate('runs/a/manifest.json')).toBe(`s3://${bucket}/pipeline/runs/a/manifest.json`);
    await store.delete('runs/a/manifest.json');
    await expect(store.get('runs/a/manifest.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('lists every key past the 1,000 of one page', async () => {
    const store = new S3ObjectStore(client, { bucket, prefix: 'many' });
    expect(S3_KEYS_PER_LIST_PAGE).toBe(1000);
    const keys = Array.from({ length: S3_KEYS_PER_LIST_PAGE + 50 }, (_, i) => `raw/rewards/part-${String(i).padStart(5, '0')}.csv`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, 'x')));
    const listed = await store.list('raw/rewards/');
    expect(listed).toHaveLength(1050);
    expect(listed).toEqual(keys);
  });

  it('uploads a large object in parts and reads it back whole', async () => {
    const store = new S3ObjectStore(client, { bucket, multipartThresholdBytes: 5 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 });
    const big = new Uint8Array(12 * 1024 * 1024).map((_, i) => i % 251);
    await store.put('curated/big.parquet', big);
    const back = await store.get('curated/big.parquet');
    expect(back.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(big))).toBe(0);
  });

  it('passes server-side encryption parameters on every write', async () => {
    const sent: unknown[] = [];
    const store = new S3ObjectStore({ send: async (command: PutObjectCommand) => void sent.push(command.input) } as unknown as S3Client, {
      bucket,
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'alias/rewards',
    });
    await store.put('a', 'x');
    expect(sent[0]).toMatchObject({ Bucket: bucket, Key: 'a', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/rewards' });
  });
});

describe('mapS3Error', () => {
  const s3Error = (name: string, status: number) =>
    new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
  it('maps S3 errors to the port errors, naming the bucket and key', () => {
    expect(mapS3Error(s3Error('NoSuchKey', 404), 'b', 'k', 'read')).toBeInstanceOf(ObjectNotFoundError);
    const denied = mapS3Error(s3Error('AccessDenied', 403), 'b', 'raw/x.csv', 'write');
    expect(denied).toBeInstanceOf(S3AccessDeniedError);
    expect(denied.message).toContain('s3://b/raw/x.csv');
    expect(mapS3Error(s3Error('SlowDown', 503), 'b', 'k', 'write')).toBeInstanceOf(TransientError);
  });
});
