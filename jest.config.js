/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|e2e-spec|contract-spec)\\.ts$',
  // NOTE: scripts/pack-smoke holds the smoke apps' own sources and tests, run by those apps (npm run pack:smoke).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/scripts/pack-smoke/', '<rootDir>/.ci/'],
  // NOTE: .redis-test holds the Redis servers' files and the built copies of test apps (app-process.ts, the chaos
  // soak): a copy's package.json named like the library would clash with it in Jest's module map.
  modulePathIgnorePatterns: ['<rootDir>/.redis-test/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  moduleNameMapper: {
    '^nestjs-background-jobs$': '<rootDir>/libs/background-jobs/src',
    '^nestjs-background-jobs/(.*)$': '<rootDir>/libs/background-jobs/src/$1',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
};
