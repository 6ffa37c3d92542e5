// CI leg 2 (see .ci/run and docs/adr/0004): the library's unit, e2e, flow-control and contract suites, unchanged, on Node 24 against
// NestJS 12. Jest 30 on Node >= 24.9 require()s the ESM-only NestJS 12 packages (require(esm)); ts-jest compiles the
// TypeScript to CommonJS exactly as in leg 1.
const path = require('node:path');
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: path.join(__dirname, '../..'),
  testRegex: '(libs/.*\\.spec|test/(e2e|flow-control)/.*\\.e2e-spec|test/contract/.*\\.contract-spec)\\.ts$',
  resolver: path.join(__dirname, 'resolver.js'),
  setupFiles: [path.join(__dirname, 'stack-check.js')],
};
