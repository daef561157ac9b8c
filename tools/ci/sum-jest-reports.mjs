// Sums the Jest --json reports that every project's test target writes to <project>/jest-report.json and
// prints the total as the last line. Exits 1 when there are no reports or any test failed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? '.';
const files = ['libs', 'apps', 'tools']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => join(group, name)) : []))
  .concat(['tools'])
  .map((project) => join(project, 'jest-report.json'))
  .filter((file) => existsSync(join(root, file)));
let passed = 0;
let failed = 0;
let failedSuites = 0;
for (const name of files) {
  const report = JSON.parse(readFileSync(join(root, name), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  failedSuites += report.numRuntimeErrorTestSuites ?? 0;
  console.log(`${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}
if (files.length === 0) console.error(`No jest-report.json under libs/, apps/ or tools/: did the test targets run?`);
if (failedSuites > 0) console.error(`${failedSuites} test suite(s) failed to run.`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(files.length === 0 || failed > 0 || failedSuites > 0 ? 1 : 0);
