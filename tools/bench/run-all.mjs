// `npm run bench`: every benchmark, one after the other.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

for (const script of ['client-bench.mjs', 'transform-bench.mjs', 'engine-bench.mjs', 'incremental-bench.mjs']) {
  execFileSync(process.execPath, [join(import.meta.dirname, script)], { stdio: 'inherit' });
}
