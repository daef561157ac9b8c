// The local runner as one file for `npm start`: its sources and the workspace libraries' sources (the `@org/source`
// export condition), compiled by esbuild in about a second, so a fresh clone runs the pipeline without first
// building nine TypeScript projects. Packages from npm stay external (required from node_modules at run time, as in
// the built CLI); `npm test` and `nx build` still compile and type-check every project with tsc.
import { build } from 'esbuild';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(app, 'dist-start', 'local-runner.cjs');

export async function bundleLocalRunner() {
  await build({
    // The CLI, and the script of its transform's worker threads, which the CLI finds beside itself.
    entryPoints: { 'local-runner': join(app, 'src', 'cli.ts'), 'part-worker': join(app, 'src', 'part-worker.ts') },
    outdir: dirname(BUNDLE),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    conditions: ['@org/source'],
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        name: 'npm-packages-external',
        setup(builder) {
          // Every bare import but the workspace's own libraries stays a require at run time, of the file Node
          // resolves from the importing library (a library may have its own version in its node_modules).
          builder.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('@org/')) return undefined;
            if (isBuiltin(args.path)) return { path: args.path, external: true };
            return { path: createRequire(join(args.resolveDir, 'noop.js')).resolve(args.path), external: true };
          });
        },
      },
    ],
  });
  return BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleLocalRunner();
