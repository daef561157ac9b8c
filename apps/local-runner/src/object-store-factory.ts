import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { FileObjectStore } from '@org/local-adapters';
import type { ObjectStore } from '@org/pipeline';
import { S3ObjectStore } from '@org/s3-adapter';
import type { RunnerConfig } from './runner-config';

export interface RunnerStore {
  store: ObjectStore;
  /** A local file DuckDB can read for a key: the object itself, or a cached download of it. */
  localFile: (key: string) => string | Promise<string>;
}

/** The object store the config names: the data folder, or an S3 bucket with a local cache for DuckDB. */
export function createRunnerStore(config: Pick<RunnerConfig, 'dataDir' | 'store'>): RunnerStore {
  if (config.store.kind === 'folder') {
    const store = new FileObjectStore(config.dataDir);
    return { store, localFile: (key) => store.locate(key) };
  }
  const { bucket, prefix, region, endpoint, credentials } = config.store;
  const store = new S3ObjectStore(new S3Client({ region, endpoint, forcePathStyle: endpoint !== undefined, credentials }), {
    bucket,
    prefix,
  });
  const cache = new FileObjectStore(join(config.dataDir, 's3-cache'));
  return {
    store,
    localFile: async (key) => {
      const path = cache.locate(key);
      // Curated objects of a run never change once written, so a cached copy stays good.
      const cached = await stat(path)
        .then((s) => s.isFile())
        .catch(() => false);
      if (!cached) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, await store.get(key));
      }
      return path;
    },
  };
}
