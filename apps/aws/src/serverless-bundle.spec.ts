import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(60_000);

type Hooks = Record<string, () => Promise<void>>;
type FunctionConfig = { handler?: string; package?: { artifact?: string; patterns?: string[] } };
const BundleFunctions: new (
  serverless: unknown,
  options: Record<string, unknown>,
  utils: unknown,
) => { hooks: Hooks } = require('../serverless-bundle.js');

/** The plugin as osls drives it, over a service folder of its own (the `package` run is in serverless-package.int.spec.ts). */
function pluginFor(serviceDir: string, functions: Record<string, FunctionConfig>, options: Record<string, unknown> = {}) {
  const notices: string[] = [];
  const serverless = {
    serviceDir,
    service: {
      getAllFunctions: () => Object.keys(functions),
      getFunction: (name: string) => functions[name],
    },
  };
  return { plugin: new BundleFunctions(serverless, options, { log: { notice: (message: string) => notices.push(message) } }), notices };
}

describe('serverless-bundle (the local plugin that bundles and zips each function)', () => {
  let serviceDir: string;

  beforeEach(() => {
    serviceDir = mkdtempSync(join(tmpdir(), 'sls-bundle-'));
    mkdirSync(join(serviceDir, 'src', 'handlers'), { recursive: true });
    mkdirSync(join(serviceDir, 'src', 'lib'), { recursive: true });
    writeFileSync(join(serviceDir, 'src', 'lib', 'greeting.ts'), 'export const greeting = (name: string): string => `hello ${name}`;\n');
    writeFileSync(
      join(serviceDir, 'src', 'handlers', 'hello.ts'),
      "import { greeting } from '../lib/greeting';\nexport const handler = async (event: { name: string }) => greeting(event.name);\n",
    );
    writeFileSync(join(serviceDir, 'src', 'handlers', 'other.ts'), 'export const handler = async () => 1;\n');
  });
  afterEach(() => rmSync(serviceDir, { recursive: true, force: true }));

  it('`serverless deploy function -f hello` gets a zip of that one bundle, which runs', async () => {
    const functions: Record<string, FunctionConfig> = {
      hello: { handler: 'src/handlers/hello.handler', package: { patterns: ['!**'] } },
      other: { handler: 'src/handlers/other.handler' },
    };
    const { plugin, notices } = pluginFor(serviceDir, functions, { function: 'hello' });
    await plugin.hooks['before:deploy:function:packageFunction']();

    const zip = join(serviceDir, '.serverless', 'hello.zip');
    expect(functions['hello'].package).toEqual({ patterns: ['!**'], artifact: zip });
    expect(functions['other'].package).toBeUndefined();
    expect(execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n')).toEqual(['src/handlers/hello.js']);
    const unpacked = join(serviceDir, 'unpacked');
    execFileSync('unzip', ['-q', zip, '-d', unpacked]);
    const run = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(join(unpacked, 'src', 'handlers', 'hello.js'))}).handler({ name: 'plu' }).then(console.log)`],
      { encoding: 'utf8' },
    );
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: 'hello plu' });
    expect(notices).toEqual(['Bundled 1 function(s) with esbuild.']);
  });

  it('names the function and the files it looked for when a handler has no source', async () => {
    const { plugin } = pluginFor(serviceDir, { gone: { handler: 'src/handlers/gone.handler' } });
    await expect(plugin.hooks['before:package:createDeploymentArtifacts']()).rejects.toThrow(
      'Function gone: no source for handler "src/handlers/gone.handler" (looked for src/handlers/gone.ts and .js',
    );
  });

  it("fails the package on a bundle that does not build, with esbuild's message", async () => {
    writeFileSync(
      join(serviceDir, 'src', 'handlers', 'broken.ts'),
      "import { missing } from './nowhere';\nexport const handler = missing;\n",
    );
    const { plugin } = pluginFor(serviceDir, { broken: { handler: 'src/handlers/broken.handler' } });
    await expect(plugin.hooks['before:package:createDeploymentArtifacts']()).rejects.toThrow(/Could not resolve "\.\/nowhere"/);
  });
});
