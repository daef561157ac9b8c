import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// danfojs-node requires '@tensorflow/tfjs-node' (a native binding downloaded at install); the root package.json's
// overrides give it tools/tfjs-node-lite instead: tfjs-core, its CPU backend and tfjs-data, without the 220 MB
// of browser backends, layers and converter that '@tensorflow/tfjs' brought. danfojs itself must not notice.
const root = join(__dirname, '..', '..');

describe('the TensorFlow.js that danfojs-node gets', () => {
  it('is the lite package, and the install has no other TensorFlow.js package', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { overrides: Record<string, string> };
    expect(manifest.overrides['@tensorflow/tfjs-node']).toBe('file:./tools/tfjs-node-lite');
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const tensorflow = Object.keys(lock.packages)
      .filter((path) => /^node_modules\/@tensorflow\/[^/]+$/.test(path))
      .sort();
    expect(tensorflow).toEqual([
      'node_modules/@tensorflow/tfjs-backend-cpu',
      'node_modules/@tensorflow/tfjs-core',
      'node_modules/@tensorflow/tfjs-data',
      'node_modules/@tensorflow/tfjs-node',
    ]);
  });

  it('runs what danfojs uses of it: tensors and their methods, moments and tf.data sampling', () => {
    // A child process: danfojs-node as any project would load it, outside Jest's module registry.
    const script = `
      const dfd = require('danfojs-node');
      const frame = new dfd.DataFrame({ amount: [1, 2, 3, 4], rate: [0.5, 0.25, 0.5, 0.25] });
      const mean = frame.mean({ axis: 0 }).values;
      const added = frame.add(1).sub(frame).values;
      const shape = frame.tensor.shape;
      const std = new dfd.Series([2, 4, 4, 4, 5, 5, 7, 9]).std();
      const scaled = new dfd.StandardScaler().fit(new dfd.Series([1, 2, 3])).transform(new dfd.Series([2])).values;
      frame.sample(2, { seed: 7 }).then((sample) =>
        process.stdout.write(JSON.stringify({ mean, added, shape, std, scaled, sampleShape: sample.shape })),
      );
    `;
    const output = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const result = JSON.parse(output) as Record<string, unknown>;
    expect(result.mean).toEqual([2.5, 0.375]);
    expect(result.added).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(result.shape).toEqual([4, 2]);
    expect(result.std).toBeCloseTo(2.138, 3);
    expect(result.scaled).toEqual([0]);
    expect(result.sampleShape).toEqual([2, 2]);
  });
});
