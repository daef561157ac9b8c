import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

jest.setTimeout(60_000);

const CLI = join(__dirname, '..', 'dist', 'cli.js');

/** The real CLI as a child process with these variables (and no other PLUTUS_* one). */
function cli(dataDir: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_') && name !== 'INIT_CWD'));
    const child = spawn(process.execPath, [CLI, 'run', '--data-dir', dataDir], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Configuration mistakes are usage errors (exit 2) named as such, before any request: never retried as if the network had cut off.
describe('local-runner refuses a Plutus configuration that cannot work', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'local-runner-config-')), 'data');
  });
  afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }));

  it.each([
    [
      'a TOTP secret that is not base32',
      { PLUTUS_EMAIL: 'me@example.com', PLUTUS_PASSWORD: 'secret', PLUTUS_TOTP_SECRET: 'not-base32-1890!' },
      'PLUTUS_TOTP_SECRET is not base32',
    ],
    [
      'a base URL with a user name and password in it',
      { PLUTUS_BASE_URL: 'https://me:pw@api.plutus.it', PLUTUS_ID_TOKEN: 'eyJhbGciOiJub25lIn0.e30.' },
      'PLUTUS_BASE_URL carries a user name or password',
    ],
    [
      'an id_token pasted with a line break',
      { PLUTUS_ID_TOKEN: 'eyJhbGciOiJub25lIn0\n.e30.' },
      'PLUTUS_ID_TOKEN contains a space, line break',
    ],
  ])('%s: exit 2 with what to fix, no retries, no secret printed', async (_, env, message) => {
    const result = await cli(dataDir, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/attempts|cut off/);
    expect(result.stderr).not.toContain(':pw@');
  });
});

describe('npx local-runner', () => {
  it('is linked by npm at install (the command the error messages name), and its --json output is the JSON alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-runner-bin-'));
    try {
      const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_')));
      const run = spawnSync(
        join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'local-runner'),
        ['run', '--json', '--sandbox-months', '1', '--data-dir', join(dir, 'data')],
        { encoding: 'utf8', env: { ...base, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` } },
      );
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, source: 'sandbox (synthetic)' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The real CLI with any arguments, to its end. */
function cliArgs(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLUTUS_') && name !== 'INIT_CWD'));
    const child = spawn(process.execPath, [CLI, ...args], { env: base, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a user mistake gets a message, not a stack trace', () => {
  let dir: string;
  let busy: Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-runner-mistakes-'));
    await mkdir(join(dir, 'data', 'state'), { recursive: true });
    await writeFile(join(dir, 'data', 'state', 'cursor.json'), '{not json');
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['status with a corrupt cursor', () => ['status', '--data-dir', join(dir, 'data')], 'CursorUnreadableError: The cursor'],
    ['sandbox --port abc', () => ['sandbox', '--port', 'abc'], '--port must be a number, got abc'],
    ['an unknown sandbox option', () => ['sandbox', '--bogus'], "Unknown option '--bogus' (--help lists the options)"],
    ['a sandbox on a busy port', () => ['sandbox', '--port', String((busy.address() as { port: number }).port)], 'EADDRINUSE'],
  ])('%s', async (_, args, message) => {
    const result = await cliArgs(args());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
