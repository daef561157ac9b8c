import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const gitStatus = () => spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).stdout;

jest.setTimeout(180_000);

// The README's release command, as written: it must work on a repository with no release tag yet.
describe('npx nx release patch --dry-run', () => {
  it('versions every publishable library from its package.json, exits 0 and changes no file', () => {
    const before = gitStatus();
    const release = spawnSync(join(ROOT, 'node_modules', '.bin', 'nx'), ['release', 'patch', '--dry-run'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    expect([release.status, release.stderr.slice(-2000)]).toEqual([0, expect.any(String)]);
    const output = release.stdout + release.stderr;
    expect(output).toMatch(/Resolved the current version as \d+\.\d+\.\d+ from manifest: libs\/plutus-client\/package.json/);
    expect(output).toContain('The "dryRun" flag means no changes were made.');
    expect(gitStatus()).toBe(before);
  });
});
