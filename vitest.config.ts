import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end files start real agents and fleets; two cores cannot run many of them at once.
    fileParallelism: true,
    maxWorkers: 2,
    // A JSON report too, from which .ci/run prints the plain "N passed, N failed" closing line; always
    // written, so that .ci/run behaves the same with or without CI set.
    reporters: ['default', 'json'],
    outputFile: { json: '.cutover-test-report.json' },
  },
});
