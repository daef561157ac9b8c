import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/dist-start',
      '**/node_modules',
      '**/.serverless',
      '**/.esbuild',
      '**/test-output',
      '**/reports',
      '**/.data',
      '**/src/generated/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.cjs', '**/*.mjs'],
    rules: {
      // The graph is the architecture: apps use libs, adapters implement the pipeline's ports,
      // and the pipeline and the pure libraries never reach for an adapter or an app.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:adapter', 'type:core', 'type:pure'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:core', 'type:pure'] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:pure'] },
            { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:app', 'type:adapter', 'type:core', 'type:pure'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One error model: a failure is thrown as an error of the shared vocabulary (a stable code, transient or not,
    // an actionable message, the cause chained), never as a plain Error.
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message:
            'Throw an error of the shared vocabulary (PipelineError and kin, or a class with code and transient), not a plain Error.',
        },
      ],
    },
  },
  {
    // Config files reach the workspace root's shared settings by path on purpose.
    files: ['**/*.cjs', '**/jest.config.*'],
    rules: { '@typescript-eslint/no-require-imports': 'off', '@nx/enforce-module-boundaries': 'off' },
  },
];
