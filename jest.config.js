/**
 * Four layers, each runnable alone and all of them in one jest run (`npm test`):
 *   unit         Node alone: no PostgreSQL, ffmpeg, Temporal server or other program (npm run test:unit)
 *   workflow     workflow code with stubbed activities: replayed histories, a Temporal dev server (npm run test:workflow)
 *   integration  the real parts: worker processes, PostgreSQL, ffmpeg, MinIO, the set-up scripts (npm run test:integration)
 *   e2e          the demo and the CLI/dashboard as people run them (npm run test:e2e)
 * Jest 29 has no per-project testTimeout: each layer's setup file (test/support/layers/) sets its own.
 */
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

function layer(name, dirs, setup) {
  return {
    ...base,
    displayName: name,
    testMatch: dirs.map((dir) => `<rootDir>/test/${dir}/**/*.test.ts`),
    setupFilesAfterEnv: [`<rootDir>/test/support/layers/${setup}.ts`],
  };
}

// test/cluster/ needs the local Temporal cluster: `npm run test:cluster` runs it (docs/operations.md).
const cluster = process.env.TEMPORAL_TARGET === 'cluster' ? ['cluster'] : [];

const layers = [
  layer('unit', ['unit', 'analyzer'], 'unit'),
  layer('workflow', ['workflow', 'replay'], 'workflow'),
  layer('integration', ['integration', 'contract', 'setup', ...cluster], 'real-stack'),
  layer('e2e', ['e2e'], 'real-stack'),
];

// TEST_LAYER=<name> runs one layer (the test:<layer> scripts): jest's --selectProjects would also
// take the test paths given after it as project names.
const only = process.env.TEST_LAYER;
if (only && !layers.some((l) => l.displayName === only)) {
  throw new Error(`TEST_LAYER=${only} is not a test layer (${layers.map((l) => l.displayName).join(', ')})`);
}

/** @type {import('jest').Config} */
module.exports = {
  verbose: true,
  projects: only ? layers.filter((l) => l.displayName === only) : layers,
};
