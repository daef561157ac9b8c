import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

it('the generated types and schemas match a fresh generation from openapi/plutus.yaml', () => {
  const output = execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'codegen.mjs'), '--check'], {
    encoding: 'utf8',
  });
  expect(output).toContain('generated files match openapi/plutus.yaml');
});
