import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A deploy mode the README documents, as `serverless package` arguments. */
export interface DeployMode {
  name: string;
  args: string[];
}

/** Every documented deploy mode (deploy-modes.json, shared with `nx run @org/aws:cfn-lint`). */
export const DEPLOY_MODES: DeployMode[] = JSON.parse(readFileSync(join(__dirname, '..', 'deploy-modes.json'), 'utf8')).modes;
