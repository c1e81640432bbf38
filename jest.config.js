/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/cluster/ needs the local Temporal cluster: `npm run test:cluster` runs it (README "Operations").
  testPathIgnorePatterns: process.env.TEMPORAL_TARGET === 'cluster' ? ['/node_modules/'] : ['/node_modules/', '/test/cluster/'],
  // Integration tests start real processes (Temporal, ffmpeg, workers): 5 s is far too short.
  testTimeout: 120_000,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  verbose: true,
};
