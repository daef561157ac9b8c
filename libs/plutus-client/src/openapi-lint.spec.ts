import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The OpenAPI document is the source of truth of the client, the sandbox and the generated types: it must pass
// Redocly's recommended rules with no error and no warning (a rule that does not fit is answered in the document).
describe('openapi/plutus.yaml', () => {
  it('lints clean with Redocly (recommended rules): 0 errors, 0 warnings', () => {
    const cli = require.resolve('@redocly/cli/bin/cli.js');
    const output = execFileSync(process.execPath, [cli, 'lint', join(__dirname, '..', 'openapi', 'plutus.yaml'), '--format=json'], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(output.slice(output.indexOf('{'))) as {
      totals: { errors: number; warnings: number };
      problems: { message: string }[];
    };
    expect({ totals: report.totals, problems: report.problems.map((problem) => problem.message) }).toEqual({
      totals: expect.objectContaining({ errors: 0, warnings: 0 }),
      problems: [],
    });
  }, 60_000);
});
