import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `serverless package` offline (no credentials, no telemetry) into `out`; answers the CloudFormation template. */
export function packageService(
  out: string,
  args: string[],
): { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } {
  const result = spawnSync(process.execPath, [require.resolve('osls/bin/serverless.js'), 'package', '--package', out, ...args], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  if (result.status !== 0) throw new Error(`serverless package failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}
