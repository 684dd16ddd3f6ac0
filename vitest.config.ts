import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end files start real agents and fleets; two cores cannot run many of them at once.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
