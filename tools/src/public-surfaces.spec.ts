import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every publishable library's surface is what its README documents: each name its main entry exports, and each
// subpath its package exports, appears in its README (in backticks). Helpers shared with tests sit behind
// subpaths the README names (`/internal`, `/testing`), so `npm pack` ships no undocumented API.
const libs = join(__dirname, '..', '..', 'libs');
const packages = readdirSync(libs).filter((name) => {
  try {
    return Boolean((JSON.parse(readFileSync(join(libs, name, 'package.json'), 'utf8')) as { publishConfig?: unknown }).publishConfig);
  } catch {
    return false;
  }
});

describe('public surfaces of the publishable libraries', () => {
  it('covers every library, and runs whenever one changes (nx affected reaches this project from every library)', () => {
    expect(packages.length).toBeGreaterThanOrEqual(9);
    type Manifest = { name: string; dependencies?: Record<string, string>; nx?: { implicitDependencies?: string[] } };
    const manifestOf = (name: string): Manifest | undefined => {
      for (const root of [libs, join(__dirname, '..', '..', 'apps'), join(__dirname, '..', '..')]) {
        for (const folder of readdirSync(root)) {
          try {
            const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as Manifest;
            if (manifest.name === name) return manifest;
          } catch {
            // not a package folder
          }
        }
      }
      return undefined;
    };
    const reached = new Set<string>();
    const visit = (name: string) => {
      const manifest = manifestOf(name);
      for (const next of [...Object.keys(manifest?.dependencies ?? {}), ...(manifest?.nx?.implicitDependencies ?? [])]) {
        if (!next.startsWith('@org/') || reached.has(next)) continue;
        reached.add(next);
        visit(next);
      }
    };
    visit('@org/tools');
    const names = packages.map((name) => (JSON.parse(readFileSync(join(libs, name, 'package.json'), 'utf8')) as Manifest).name);
    expect(names.filter((name) => !reached.has(name))).toEqual([]);
  });

  it.each(packages)('%s: its README documents every export of its main entry and every subpath', (name) => {
    const manifest = JSON.parse(readFileSync(join(libs, name, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, unknown>;
    };
    const readme = readFileSync(join(libs, name, 'README.md'), 'utf8');
    const exported = Object.keys(require(manifest.name) as object);
    const undocumented = exported.filter((symbol) => !new RegExp(`\\b${symbol}\\b`).test(readme));
    expect({ name, undocumented }).toEqual({ name, undocumented: [] });
    const subpaths = Object.keys(manifest.exports).filter((path) => path !== '.' && path !== './package.json' && !path.includes('.yaml'));
    const unnamed = subpaths.filter((path) => !readme.includes(`${manifest.name}${path.slice(1)}`));
    expect({ name, unnamed }).toEqual({ name, unnamed: [] });
  });
});
