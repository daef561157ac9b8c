'use strict';
// danfojs-node requires '@tensorflow/tfjs-node' (a native binding it downloads at install) and uses tensors,
// their chained methods (tensor.sqrt(), tensor.add(other)), moments and tf.data sampling. The root package.json's
// overrides point that name here: tfjs-core with its CPU backend and tfjs-data, without the 220 MB of browser
// backends, layers and converter that the '@tensorflow/tfjs' bundle brings.
const { readdirSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

require('@tensorflow/tfjs-backend-cpu');
const core = require('@tensorflow/tfjs-core');
const data = require('@tensorflow/tfjs-data');

registerChainedOps();

module.exports = { ...core, data };

/**
 * tfjs-core's CommonJS build leaves out the tensor methods: '@tensorflow/tfjs' adds them from
 * dist/public/chained_ops, one ES module per method, whose extensionless imports Node cannot load. Each module
 * only imports ops that the CommonJS build exports and assigns one method on the tensor class, so it runs here
 * with those ops handed in by name.
 */
function registerChainedOps() {
  const directory = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'public', 'chained_ops');
  const provided = { ...core, getGlobalTensorClass: () => core.Tensor, assert: core.util.assert, ...core.image };
  for (const file of readdirSync(directory)) {
    if (!file.endsWith('.js') || file.endsWith('_test.js') || file.startsWith('register_all')) continue;
    const source = readFileSync(join(directory, file), 'utf8');
    const names = [];
    const body = source.replace(/^import \{([^}]*)\} from [^;]*;$/gm, (_, list) => {
      names.push(
        ...list
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      );
      return '';
    });
    const missing = names.filter((name) => !(name in provided));
    if (missing.length) throw new Error(`tfjs-node-lite: ${file} needs ${missing.join(', ')}, which tfjs-core does not export`);
    new Function(...names, body)(...names.map((name) => provided[name]));
  }
}
