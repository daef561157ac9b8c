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
  it('covers every library', () => {
    expect(packages.length).toBeGreaterThanOrEqual(9);
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
