import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // SQLite files and child processes: run files in forks, a few at a time.
    pool: 'forks',
  },
});
