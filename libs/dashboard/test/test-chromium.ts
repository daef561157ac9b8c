import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * The browser the page tests drive: the Chromium that ships inside the `@sparticuz/chromium` npm package
 * (brotli-packed, unpacked once per version into the temp folder), so `npm ci && npm test` needs no system
 * package and no download. `CHROMIUM_PATH` points the tests at another Chromium (Debian's, say) instead.
 */
export async function launchTestChromium(): Promise<Browser> {
  const executablePath = process.env['CHROMIUM_PATH'] || unpackedNpmChromium();
  return chromium.launch({
    executablePath,
    // Without the background-networking flags Chromium keeps dialling hosts this closed network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

function unpackedNpmChromium(): string {
  // The package exports no package.json: find its folder from its entry (build/index.js).
  const packageDir = dirname(dirname(require.resolve('@sparticuz/chromium', { paths: [__dirname] })));
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const folder = join(tmpdir(), `org-test-chromium-${version}`);
  const binary = join(folder, 'chromium');
  if (existsSync(binary)) return binary;
  // The package unpacks into $TMPDIR and reuses whatever `chromium` it finds there, even half written: unpack
  // into a private folder, then rename it into place, so a killed or concurrent test never sees a partial file.
  const staging = `${folder}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync(process.execPath, ['-e', "import('@sparticuz/chromium').then(async (m) => { await m.default.executablePath(); })"], {
    cwd: packageDir,
    env: { ...process.env, TMPDIR: staging },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    renameSync(staging, folder);
  } catch (error) {
    // Another process won the race: its copy is complete, so use it.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(binary)) throw error;
  }
  return binary;
}
