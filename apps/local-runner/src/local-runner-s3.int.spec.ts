import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDbDatabase } from '@org/local-adapters';
import { startSandbox } from '@org/plutus-sandbox';
import { startS3rver, type RunningS3rver } from '@org/s3-adapter/testing';
import { runLocalRunnerCli } from './local-runner-cli';

jest.setTimeout(60_000);

// Configured with an S3 bucket, the runner keeps its objects there (here: s3rver on 127.0.0.1) and loads the
// local DuckDB warehouse from cached copies.
describe('local-runner with an S3 bucket', () => {
  let server: RunningS3rver;
  let workDir: string;
  beforeAll(async () => {
    server = await startS3rver('rewards-local');
    workDir = await mkdtemp(join(tmpdir(), 'local-runner-s3-'));
  });
  afterAll(async () => {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('writes raw, curated, manifests and the cursor to the bucket, and loads everything', async () => {
    const env = {
      RUNNER_S3_BUCKET: 'rewards-local',
      RUNNER_S3_PREFIX: 'me/',
      RUNNER_S3_ENDPOINT: server.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLocalRunnerCli(['run', '--sandbox-now', '2026-06-30T12:00:00Z', '--sandbox-months', '6'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env,
      cwd: workDir,
    });
    expect({ code, err: err.filter((line) => line.startsWith('local-runner:')) }).toEqual({ code: 0, err: [] });
    expect(out.join('\n')).toContain('manifest:  s3://rewards-local/me/runs/');

    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'rewards-local', Prefix: 'me/' }))).Contents ?? []).map(
      (object) => object.Key,
    );
    s3.destroy();
    expect(keys.some((key) => key?.startsWith('me/raw/transactions/'))).toBe(true);
    // The lake holds the two cleaned datasets; the facts live in the warehouse.
    expect(keys.filter((key) => key?.startsWith('me/curated/'))).toHaveLength(2);
    expect(keys).toContain('me/state/cursor.json');
    expect(keys).not.toContain('me/state/lock.json');

    const sandbox = await startSandbox({ now: '2026-06-30T12:00:00Z', months: 6 });
    const expected = sandbox.data().transactions.length;
    await sandbox.close();
    const database = new DuckDbDatabase(join(workDir, '.data', 'warehouse.duckdb'));
    try {
      const [row] = await database.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM transactions');
      expect(row.n).toBe(expected);
    } finally {
      await database.close();
    }
  });
});
