// `nx run @org/aws:cfn-lint`: packages every deploy mode the README documents (deploy-modes.json) offline and runs
// AWS's CloudFormation linter, cfn-lint, on each template. Fails on any error; prints warnings.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const { modes } = JSON.parse(readFileSync(join(app, 'deploy-modes.json'), 'utf8'));

const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  console.error(
    'cfn-lint is not on the PATH: install it (pip install cfn-lint) to lint the packaged templates. `npm test` does not need it.',
  );
  process.exit(2);
}
console.log(`${version.stdout.trim()} on ${modes.length} deploy modes`);

const out = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
let failed = 0;
try {
  for (const mode of modes) {
    const dir = join(out, mode.name);
    execFileSync(process.execPath, [require.resolve('osls/bin/serverless.js'), 'package', '--package', dir, ...mode.args], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    });
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', join(dir, 'cloudformation-template-update-stack.json')], {
      encoding: 'utf8',
    });
    const findings = lint.stdout.split('\n').filter(Boolean);
    const errors = findings.filter((line) => /:E\d{4}:/.test(line));
    const warnings = findings.filter((line) => /:W\d{4}:/.test(line));
    // cfn-lint's exit code is a bit field: 2 errors, 4 warnings, 8 informational; anything else is its own failure.
    const broken = lint.status === null || lint.status === 1 || lint.status > 15;
    console.log(
      `${mode.name}: ${errors.length} error(s), ${warnings.length} warning(s)${broken ? ` (cfn-lint exited ${lint.status}: ${lint.stderr.trim()})` : ''}`,
    );
    for (const line of findings) console.log(`  ${line.slice(line.indexOf(':') + 1)}`);
    if (errors.length || broken) failed += 1;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed) {
  console.error(`cfn-lint: ${failed} of ${modes.length} deploy modes have errors`);
  process.exit(1);
}
console.log(`cfn-lint: 0 errors in all ${modes.length} deploy modes`);
