import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectNotFoundError } from '@org/pipeline';
import { FileObjectStore } from './file-object-store';

describe('FileObjectStore', () => {
  let root: string;
  let store: FileObjectStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'object-store-'));
    store = new FileObjectStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('puts, gets, lists under a prefix, checks and deletes whole objects', async () => {
    await store.put('raw/rewards/ingest_date=2026-01-01/run=a/part-00000.csv', 'id\n1\n');
    await store.put('raw/rewards/ingest_date=2026-01-02/run=b/part-00000.csv', new Uint8Array([1, 2, 3]));
    await store.put('raw/transactions/x.csv', 'x');
    expect(Buffer.from(await store.get('raw/rewards/ingest_date=2026-01-01/run=a/part-00000.csv')).toString()).toBe('id\n1\n');
    expect(await store.list('raw/rewards/')).toEqual([
      'raw/rewards/ingest_date=2026-01-01/run=a/part-00000.csv',
      'raw/rewards/ingest_date=2026-01-02/run=b/part-00000.csv',
    ]);
    expect(await store.list('nothing/here/')).toEqual([]);
    expect(await store.exists('raw/transactions/x.csv')).toBe(true);
    await store.delete('raw/transactions/x.csv');
    expect(await store.exists('raw/transactions/x.csv')).toBe(false);
    await expect(store.get('raw/transactions/x.csv')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('overwrites whole objects and leaves no temporary files behind', async () => {
    await store.put('state/cursor.json', '{"a":1}');
    await store.put('state/cursor.json', '{"a":2}');
    expect(Buffer.from(await store.get('state/cursor.json')).toString()).toBe('{"a":2}');
    expect(await readdir(join(root, 'state'))).toEqual(['cursor.json']);
  });

  it('ignores half-written temporary files when listing', async () => {
    await store.put('runs/a/manifest.json', '{}');
    await writeFile(join(root, 'runs', 'a', 'manifest.json.tmp-1-abcd'), '{');
    expect(await store.list('runs/')).toEqual(['runs/a/manifest.json']);
  });

  it('creates only when absent', async () => {
    expect(await store.putIfAbsent('state/lock.json', 'first')).toBe(true);
    expect(await store.putIfAbsent('state/lock.json', 'second')).toBe(false);
    expect(Buffer.from(await store.get('state/lock.json')).toString()).toBe('first');
  });

  it('refuses keys that escape the folder', () => {
    expect(() => store.locate('../etc/passwd')).toThrow('Not a valid object key');
    expect(() => store.locate('/abs')).toThrow('Not a valid object key');
  });
});
