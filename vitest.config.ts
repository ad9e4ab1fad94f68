import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Astro builds and subprocess tests are heavy; two cores run two files at a time.
    maxWorkers: 2,
  },
});
