// `npm start`: bundle the local runner from its sources (scripts/bundle.mjs, about a second) and run it with
// `run` and any arguments given after `npm start --`. The same CLI as `npx local-runner run`, without first
// compiling the nine TypeScript projects it is made of.
import { bundleLocalRunner } from './bundle.mjs';
import { createRequire } from 'node:module';

const bundle = await bundleLocalRunner();
process.argv = [process.argv[0], bundle, 'run', ...process.argv.slice(2)];
createRequire(import.meta.url)(bundle);
