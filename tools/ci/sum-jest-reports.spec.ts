import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs the real CI script on made-up workspaces: its last line is what CI reads.
describe('sum-jest-reports.mjs', () => {
  let root: string;
  const report = (project: string, passed: number, failed: number, runtimeErrors = 0) => {
    mkdirSync(join(root, project), { recursive: true });
    writeFileSync(
      join(root, project, 'jest-report.json'),
      JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numRuntimeErrorTestSuites: runtimeErrors }),
    );
  };
  const run = () => spawnSync(process.execPath, [join(__dirname, 'sum-jest-reports.mjs'), root], { encoding: 'utf8' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jest-totals-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('sums every project and ends with the plain total line', () => {
    report('libs/a', 3, 0);
    report('apps/b', 4, 0);
    report('tools', 1, 0);
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('tests: 8 passed, 0 failed');
  });

  it('fails on a failed test, a suite that could not run, or no reports at all', () => {
    report('libs/a', 3, 1);
    expect(run()).toMatchObject({ status: 1 });
    expect(run().stdout.trim().split('\n').at(-1)).toBe('tests: 3 passed, 1 failed');
    rmSync(join(root, 'libs'), { recursive: true });
    report('libs/c', 2, 0, 1);
    expect(run().status).toBe(1);
    rmSync(join(root, 'libs'), { recursive: true });
    expect(run().status).toBe(1);
  });
});
