// Four projects: unit specs beside the code, e2e specs in test/ (real app over HTTP, real databases),
// browser specs in test/ (Swagger UI driven by Debian's chromium through playwright-core), and the
// Galera suite in test/galera/ (a three-node cluster; skipped unless TEST_GALERA_NODES names it).
const transform = {
  '^.+\\.(t|j)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};

// jose 6 ships only ES modules; jest runs CommonJS, so swc transpiles it too.
const transformIgnorePatterns = ['/node_modules/(?!jose/)'];

/** @type {import('jest').Config} */
module.exports = {
  // A global option (jest ignores it inside projects): e2e suites start real apps and databases.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'browser',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.browser-spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'galera',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/galera/*.galera-spec.ts'],
      transform,
      transformIgnorePatterns,
    },
  ],
};
