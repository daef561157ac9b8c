// Packages the service and prints, per function, the zip size and the time to `require` its bundle (a
// stand-in for cold-start init): the median of 5 fresh processes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const out = mkdtempSync(join(tmpdir(), 'bundle-figures-'));
try {
  execFileSync(
    process.execPath,
    [require.resolve('osls/bin/serverless.js'), 'package', '--package', out, '--param=redshiftWorkgroup=analytics'],
    {
      cwd: join(import.meta.dirname, '..'),
      stdio: 'ignore',
    },
  );
  console.log('function      | zip KB | require ms (median of 5)');
  for (const zip of readdirSync(out)
    .filter((name) => name.endsWith('.zip'))
    .sort()) {
    const dir = join(out, 'unpacked', zip);
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', join(out, zip), '-d', dir]);
    const bundle = join(
      dir,
      'src',
      'handlers',
      readdirSync(join(dir, 'src', 'handlers')).find((name) => name.endsWith('.js')),
    );
    const times = Array.from({ length: 5 }, () => {
      const run = spawnSync(
        process.execPath,
        ['-e', `const t = performance.now(); require(${JSON.stringify(bundle)}); process.stdout.write(String(performance.now() - t))`],
        { encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`Requiring ${zip}'s bundle failed:\n${run.stderr}`);
      const millis = Number(run.stdout.trim());
      if (Number.isNaN(millis)) throw new Error(`No time from requiring ${zip}'s bundle; it printed:\n${run.stdout}`);
      return millis;
    }).sort((a, b) => a - b);
    console.log(
      `${zip.replace('.zip', '').padEnd(13)} | ${(statSync(join(out, zip)).size / 1024).toFixed(0).padStart(6)} | ${times[2].toFixed(0).padStart(5)}`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
