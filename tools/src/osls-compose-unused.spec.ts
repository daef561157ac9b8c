import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

// serverless-step-functions lists @osls/compose (88 packages with its own dependencies) but none of its published
// code loads it; the root package.json's overrides give it tools/osls-compose-unused instead.
const root = join(__dirname, '..', '..');
const stepFunctionsPlugin = dirname(require.resolve('serverless-step-functions/package.json', { paths: [join(root, 'apps', 'aws')] }));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(c|m)?js$/.test(name) ? [path] : [];
  });
}

describe('the @osls/compose that serverless-step-functions gets', () => {
  it('is the stand-in, and the install holds neither the real package nor its dependency tree', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { overrides: Record<string, unknown> };
    expect(manifest.overrides['@osls/compose']).toBe('file:./tools/osls-compose-unused');
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; link?: boolean }>;
    };
    const compose = Object.entries(lock.packages).filter(([path]) => /node_modules\/@osls\/compose(\/|$)/.test(path));
    expect(compose.map(([path, entry]) => [path, entry.link])).toEqual([['node_modules/@osls/compose', true]]);
    // es-abstract and its ~70 polyfill packages came only through @osls/compose's `traverse`.
    expect(Object.keys(lock.packages).filter((path) => path.endsWith('node_modules/es-abstract'))).toEqual([]);
  });

  it("is never named by the plugin's published code, which loads without it", () => {
    const naming = sourceFiles(stepFunctionsPlugin)
      .filter((file) => readFileSync(file, 'utf8').includes('@osls/compose'))
      .map((file) => relative(stepFunctionsPlugin, file));
    expect(naming).toEqual([]);
    const plugin = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(stepFunctionsPlugin)}); console.log('loaded')`], {
      encoding: 'utf8',
    });
    expect({ status: plugin.status, stdout: plugin.stdout.trim() }).toEqual({ status: 0, stdout: 'loaded' });
  });

  it('says what to do if a later serverless-step-functions starts to load it', () => {
    const loaded = spawnSync(process.execPath, ['-e', "require('@osls/compose')"], { cwd: stepFunctionsPlugin, encoding: 'utf8' });
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain('remove the "@osls/compose" entry from the root package.json\'s overrides');
  });
});
