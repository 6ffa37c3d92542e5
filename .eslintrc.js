/* ESLint 9 in legacy (eslintrc) mode: `ESLINT_USE_FLAT_CONFIG=false`, set by `npm run lint`. */
const fs = require('node:fs');
const path = require('node:path');

// NOTE: the layering of DESIGN.md, checked on resolved paths (import/no-restricted-paths) so that a relative
// import is judged by where it lands, not by how it is spelled. Adapters are listed from disk, so a new
// adapters/<x>/ folder is covered without editing this file.
const SRC = './libs/background-jobs/src';
const adapters = fs
  .readdirSync(path.join(__dirname, SRC, 'adapters'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const entryFiles = fs
  .readdirSync(path.join(__dirname, SRC), { withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => `${SRC}/${entry.name}`);
const LAYERING = {
  contracts: 'Layering: contracts/ imports nothing outside contracts/ (see docs/concepts.md#layering).',
  core: 'Layering: core/ imports only contracts/ and core/ (see docs/concepts.md#layering).',
  ports: 'Layering: core/ports/ declares what core needs from outside; it never imports core/pipeline/ (see docs/concepts.md#layering).',
  adapterToAdapter: 'Layering: an adapter never imports another adapter; share through core ports (see docs/concepts.md#layering).',
  adapterToEntry: 'Layering: adapters never import the entry files; depend on contracts/ and core/ (see docs/concepts.md#layering).',
  onlyEntryWires: 'Layering: only the entry files (src/*.ts) wire adapters (see docs/concepts.md#layering).',
};
const zones = [
  { target: `${SRC}/contracts`, from: SRC, except: ['./contracts'], message: LAYERING.contracts },
  { target: `${SRC}/core`, from: SRC, except: ['./contracts', './core'], message: LAYERING.core },
  { target: `${SRC}/core/ports`, from: `${SRC}/core/pipeline`, message: LAYERING.ports },
  ...adapters.flatMap((name) => [
    ...adapters
      .filter((other) => other !== name)
      .map((other) => ({ target: `${SRC}/adapters/${name}`, from: `${SRC}/adapters/${other}`, message: LAYERING.adapterToAdapter })),
    ...entryFiles.map((file) => ({ target: `${SRC}/adapters/${name}`, from: file, message: LAYERING.adapterToEntry })),
  ]),
  // Any sub-folder other than adapters/ (operations/, …) must not reach into adapters/ either.
  { target: `${SRC}/!(adapters|contracts|core)/**/*`, from: `${SRC}/adapters`, message: LAYERING.onlyEntryWires },
];

module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { project: 'tsconfig.json', tsconfigRootDir: __dirname, sourceType: 'module' },
  plugins: ['@typescript-eslint', 'import'],
  extends: ['eslint:recommended', 'plugin:@typescript-eslint/recommended'],
  env: { node: true, jest: true },
  ignorePatterns: ['.eslintrc.js', 'dist', 'node_modules', 'jest.config.js', 'test/fixtures', 'scripts/pack-smoke', '.ci'],
  settings: { 'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
  rules: {
    '@typescript-eslint/no-explicit-any': 'off',
    '@typescript-eslint/no-unsafe-function-type': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    '@typescript-eslint/no-floating-promises': 'error',
  },
  overrides: [
    {
      // Shipped library code (specs are not shipped and may use test tools).
      files: ['libs/background-jobs/src/**/*.ts'],
      excludedFiles: ['**/*.spec.ts'],
      rules: { 'import/no-restricted-paths': ['error', { basePath: __dirname, zones }] },
    },
    {
      // NOTE: a library file stays within 300 lines, every line counted (Prettier keeps lines short, so the count
      // means something); a file that grows past it is split by concern. Specs, tests and the bench are exempt.
      files: ['libs/background-jobs/src/**/*.ts'],
      excludedFiles: ['**/*.spec.ts'],
      rules: { 'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }] },
    },
    {
      files: ['libs/background-jobs/src/contracts/**/*.ts'],
      excludedFiles: ['**/*.spec.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: [{ regex: '^(?!\\.{1,2}/)', message: 'Layering: contracts/ imports no package at all, not even node: builtins.' }] },
        ],
      },
    },
    {
      files: ['libs/background-jobs/src/core/**/*.ts'],
      excludedFiles: ['**/*.spec.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: '^(?!\\.{1,2}/|@nestjs/common$|node:)',
                message: 'Layering: core/ imports only contracts/, core/, @nestjs/common and node: builtins.',
              },
            ],
          },
        ],
      },
    },
  ],
};
