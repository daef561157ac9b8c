import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningS3rver {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver (an S3-compatible server) in its own process on 127.0.0.1 with a bucket. It needs Node's
 * OpenSSL legacy provider: s3rver signs ListObjectsV2 continuation tokens with DES.
 */
export async function startS3rver(bucket: string): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const cli = require.resolve('s3rver/bin/s3rver.js');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', cli, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\S+):(\d+)/.exec(output);
      if (match) resolve(`http://${match[1]}:${match[2]}`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`s3rver did not start in 15 s: ${output}`)), 15_000).unref();
  });
  return {
    endpoint,
    stop: async () => {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
