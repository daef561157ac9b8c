// Bundling for the Lambdas (serverless-esbuild). Workspace libraries are bundled from their TypeScript
// sources (the "@org/source" export condition) so unused code is shaken out of each function's zip.
const { copyFileSync, mkdirSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** parquet-wasm loads its .wasm beside its JavaScript at run time; put it beside the transform bundle. */
const parquetWasm = {
  name: 'parquet-wasm-beside-bundle',
  setup(build) {
    let bundled = false;
    build.onResolve({ filter: /^parquet-wasm/ }, () => {
      bundled = true;
      return undefined;
    });
    build.onEnd(() => {
      // Only the bundle that pulled parquet-wasm in (the transform) needs the file. serverless-esbuild packs
      // files under __only_<function>/ into that function's zip alone.
      if (!bundled) return;
      const wasm = join(dirname(require.resolve('parquet-wasm/node')), 'parquet_wasm_bg.wasm');
      const target = join(build.initialOptions.outdir, '..', '..', '__only_transform', 'src', 'handlers', 'parquet_wasm_bg.wasm');
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(wasm, target);
    });
  },
};

module.exports = () => ({
  bundle: true,
  minify: true,
  keepNames: true, // error names (TransientError, ...) are what the state machine's Retry matches
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  conditions: ['@org/source'],
  exclude: [],
  plugins: [parquetWasm],
});
