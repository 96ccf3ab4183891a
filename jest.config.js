/** Tests run as ESM, like the bundles users run (see GITHUB.md). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: 60000,
  // The sample tree's secret named value needs ORDERS_API_KEY (see the file).
  globalSetup: '<rootDir>/__tests__/helpers/sample-env.ts',
};
