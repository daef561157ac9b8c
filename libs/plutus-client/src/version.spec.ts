import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_VERSION } from './version';

it('CLIENT_VERSION (sent in the User-Agent) matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  expect(CLIENT_VERSION).toBe(pkg.version);
});
