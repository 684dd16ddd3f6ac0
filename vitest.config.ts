import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end files start real agents and fleets; two cores cannot run many of them at once.
    fileParallelism: true,
    maxWorkers: 2,
    // In CI a JSON report too, from which .ci/run prints the plain "N passed, N failed" closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cutover-test-report.json' },
  },
});
