// A local Serverless Framework plugin: each function is bundled by esbuild into one file and zipped alone, so a
// function's zip carries only what its handler imports. Workspace libraries are bundled from their TypeScript
// sources (the "@org/source" export condition), so unused code is shaken out of each zip.
const { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');

const ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  keepNames: true, // error names (TransientError, ...) are what the state machine's Retry matches
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  conditions: ['@org/source'],
  logLevel: 'warning',
  metafile: true,
};

// A fixed time and mode per entry: the same bundle gives the same zip, so an unchanged function keeps its code
// hash and its published version.
const ZIP_ENTRY = { mtime: new Date(0), mode: 0o100644 };

/** parquet-wasm loads its .wasm beside its JavaScript at run time: a bundle that kept parquet-wasm's code gets the file. */
function parquetWasmBesideBundle(outfile) {
  return {
    name: 'parquet-wasm-beside-bundle',
    setup(build) {
      build.onEnd((result) => {
        if (result.errors.length > 0) return;
        const kept = Object.values(result.metafile.outputs).some((output) =>
          Object.keys(output.inputs).some((input) => input.includes('node_modules/parquet-wasm/')),
        );
        if (!kept) return;
        const wasm = join(dirname(require.resolve('parquet-wasm/node')), 'parquet_wasm_bg.wasm');
        copyFileSync(wasm, join(dirname(outfile), 'parquet_wasm_bg.wasm'));
      });
    },
  };
}

/** `src/handlers/extract.handler` -> the handler's source file and the bundle's path inside the zip. */
function handlerFiles(serviceDir, functionName, handler) {
  const modulePath = handler.slice(0, handler.lastIndexOf('.'));
  const source = ['.ts', '.js'].map((ext) => resolve(serviceDir, modulePath + ext)).find((file) => existsSync(file));
  if (!source)
    throw new Error(
      `Function ${functionName}: no source for handler "${handler}" (looked for ${modulePath}.ts and .js under ${serviceDir}).`,
    );
  return { source, bundlePath: `${modulePath}.js` };
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile())
    .sort();
}

function zipFolder(folder, zipFile) {
  const yazl = require('yazl');
  const zip = new yazl.ZipFile();
  for (const file of filesUnder(folder)) zip.addFile(file, relative(folder, file).split(sep).join('/'), ZIP_ENTRY);
  zip.end();
  const chunks = [];
  return new Promise((done, fail) => {
    zip.outputStream.on('data', (chunk) => chunks.push(chunk));
    zip.outputStream.on('error', fail);
    zip.outputStream.on('end', () => {
      writeFileSync(zipFile, Buffer.concat(chunks));
      done();
    });
  });
}

class BundleFunctions {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: (message) => serverless.cli.log(message) };
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundle(this.serverless.service.getAllFunctions()),
      'before:deploy:function:packageFunction': () => this.bundle([this.options.function]),
    };
  }

  async bundle(functionNames) {
    const esbuild = require('esbuild');
    const serviceDir = this.serverless.serviceDir;
    // osls zips into `.serverless/` and moves that folder to `--package` at the end; these zips go with it.
    const artifacts = join(serviceDir, '.serverless');
    const work = join(artifacts, 'bundles');
    rmSync(work, { recursive: true, force: true });
    await Promise.all(
      functionNames.map(async (name) => {
        const fn = this.serverless.service.getFunction(name);
        if (!fn.handler) return; // a container image function has nothing to bundle
        const { source, bundlePath } = handlerFiles(serviceDir, name, fn.handler);
        const folder = join(work, name);
        const outfile = join(folder, bundlePath);
        mkdirSync(dirname(outfile), { recursive: true });
        await esbuild.build({ ...ESBUILD_OPTIONS, entryPoints: [source], outfile, plugins: [parquetWasmBesideBundle(outfile)] });
        const zipFile = join(artifacts, `${name}.zip`);
        await zipFolder(folder, zipFile);
        fn.package = { ...fn.package, artifact: zipFile };
      }),
    );
    rmSync(work, { recursive: true, force: true });
    this.log.notice(`Bundled ${functionNames.length} function(s) with esbuild.`);
  }
}

module.exports = BundleFunctions;
